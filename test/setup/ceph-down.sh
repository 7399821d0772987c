#!/usr/bin/env bash
# Stops the Ceph that test/setup/ceph-up.sh started in DIR, then removes DIR (CEPH_KEEP_DIR=1
# keeps it, for its logs). Only processes named by DIR/run/*.pid whose command line names
# DIR/ceph.conf are signalled: never anything found by name.
#
#   test/setup/ceph-down.sh DIR
set -uo pipefail
DIR=$1
[ -f "$DIR/ceph.conf" ] || { [ -d "$DIR" ] && echo "ceph-down: $DIR has no ceph.conf; left alone" >&2; exit 0; }

ours() { [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$DIR/ceph.conf"; }

# radosgw and the osd first (the osd exits at once while the mon lives), then the mon.
# The data is thrown away, so after a short grace whatever is left is killed (radosgw takes
# ~5 s to exit cleanly).
stop() { # pid files...
  local pids=() f pid i
  for f in "$@"; do
    [ -f "$f" ] || continue
    pid=$(tr -dc '0-9' <"$f")
    [ -n "$pid" ] && ours "$pid" && kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
  done
  for pid in "${pids[@]}"; do
    for i in $(seq 1 "${CEPH_DOWN_GRACE_TENTHS:-10}"); do ours "$pid" || break; sleep 0.1; done
    ours "$pid" && kill -KILL "$pid" 2>/dev/null
    for i in $(seq 1 50); do ours "$pid" || break; sleep 0.1; done
  done
}
shopt -s nullglob
stop "$DIR"/run/ceph-client.*.pid "$DIR"/run/ceph-osd.*.pid
stop "$DIR"/run/ceph-mon.*.pid
[ "${CEPH_KEEP_DIR:-0}" = 1 ] || rm -rf -- "$DIR"
exit 0
