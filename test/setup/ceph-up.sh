#!/usr/bin/env bash
# Starts a throwaway single-node Ceph for the S3 tests and the s3 benchmark: one mon, one
# memstore osd and one radosgw (beast) on 127.0.0.1, no systemd, no mgr, everything (config,
# keyring, pid files, logs) under DIR. Prints the S3 endpoint and keys as KEY=VALUE lines on
# stdout (and writes them to DIR/s3.env); test/setup/ceph-down.sh DIR stops it.
#
#   test/setup/ceph-up.sh DIR RGW_PORT MON_PORT [TLS_CERT TLS_KEY]
#
# With TLS_CERT and TLS_KEY radosgw serves https on RGW_PORT instead of http.
# Memstore keeps every object in the osd's memory (about twice its size): keep data small.
# Exit 3: a Ceph program is missing (callers skip); any other failure stops what was started,
# keeps DIR/log for a look, and exits 1.
set -euo pipefail
DIR=$1 RGW_PORT=$2 MON_PORT=$3 TLS_CERT=${4:-} TLS_KEY=${5:-}
WAIT_S=${CEPH_WAIT_S:-60}
HERE=$(cd "$(dirname "$0")" && pwd)

for prog in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool uuidgen curl; do
  command -v "$prog" >/dev/null || { echo "ceph-up: $prog is not installed (test/setup/install-test-tools.sh installs it)" >&2; exit 3; }
done
case "$DIR" in /*) ;; *) echo "ceph-up: DIR must be absolute" >&2; exit 1 ;; esac
[ -z "$(ls -A "$DIR" 2>/dev/null)" ] || { echo "ceph-up: $DIR is not empty" >&2; exit 1; }

started=0
fail() {
  trap - ERR INT TERM
  echo "ceph-up: $* (logs in $DIR/log)" >&2
  [ $started = 0 ] || CEPH_KEEP_DIR=1 "$HERE/ceph-down.sh" "$DIR" >/dev/null 2>&1 || true
  exit 1
}
trap 'fail "a step failed at line $LINENO"' ERR
trap 'fail "interrupted"' INT TERM

mkdir -p "$DIR"/{run,log,mon/ceph-a,osd/ceph-0,tmp}
CONF=$DIR/ceph.conf KEYRING=$DIR/keyring
FSID=$(uuidgen) OSD_UUID=$(uuidgen)
SCHEME=http FRONTEND="beast endpoint=127.0.0.1:$RGW_PORT"
if [ -n "$TLS_CERT" ]; then SCHEME=https FRONTEND="beast ssl_endpoint=127.0.0.1:$RGW_PORT ssl_certificate=$TLS_CERT ssl_private_key=$TLS_KEY"; fi

# Settings that matter (measured in a probe of this cluster shape):
# - pool size 1, crush type 0 (osd, not host), few pgs: one osd serves every pg;
# - paxos propose interval 0.05 s: each of radosgw's pool creations waits a paxos round
#   (1 s by default: start-up took 12 s instead of 2 s);
# - tcp_nodelay: without it a small GET waits ~40 ms for Nagle and delayed ACKs;
# - rgw gc after 10 s: deleted objects' tails are freed (memstore holds them in RAM).
cat >"$CONF" <<CONF
[global]
fsid = $FSID
mon host = [v2:127.0.0.1:$MON_PORT]
public addr = 127.0.0.1
ms bind ipv6 = false
ms bind msgr1 = false
auth allow insecure global id reclaim = false
keyring = $KEYRING
run dir = $DIR/run
admin socket = $DIR/run/\$cluster-\$name.asok
pid file = $DIR/run/\$cluster-\$name.pid
log file = $DIR/log/\$cluster-\$name.log
crash dir = $DIR/tmp
log to stderr = false
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon max pg per osd = 1000
paxos propose interval = 0.05
paxos min wait = 0.01
mon data avail warn = 1
mon data avail crit = 0
[mon]
mon data = $DIR/mon/\$cluster-\$id
mon cluster log file = $DIR/log/cluster.log
[osd]
osd data = $DIR/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = ${CEPH_OSD_BYTES:-2147483648}
osd max object size = 134217728
osd class load list = *
osd class default list = *
[client.rgw.a]
rgw frontends = $FRONTEND tcp_nodelay=1
rgw thread pool size = 64
rgw enable usage log = false
rgw gc obj min wait = 10
rgw gc processor period = 10
CONF

# One keyring for every entity: the mon is created with it, so it knows them all.
ceph-authtool --create-keyring "$KEYRING" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool "$KEYRING" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
ceph-authtool "$KEYRING" --gen-key -n osd.0 --cap mon 'allow profile osd' --cap osd 'allow *' >/dev/null
ceph-authtool "$KEYRING" --gen-key -n client.rgw.a --cap mon 'allow rw' --cap osd 'allow rwx' >/dev/null
chmod 600 "$KEYRING"
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_PORT]" "$DIR/tmp/monmap" >/dev/null

wait_for() { # what, command...
  local what=$1 end=$((SECONDS + WAIT_S)); shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || fail "no $what after ${WAIT_S}s"
    sleep 0.1
  done
}

started=1
ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/tmp/monmap" 2>>"$DIR/log/mkfs.log"
ceph-mon -c "$CONF" -i a 2>>"$DIR/log/daemons.log"
wait_for "mon quorum" ceph -c "$CONF" --connect-timeout 10 mon stat

[ "$(ceph -c "$CONF" osd new "$OSD_UUID")" = 0 ] || fail "the osd did not get id 0"
ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$OSD_UUID" >/dev/null 2>>"$DIR/log/mkfs.log"
ceph-osd -c "$CONF" -i 0 2>>"$DIR/log/daemons.log"
osd_up() { ceph -c "$CONF" osd dump 2>/dev/null | grep -q '^osd.0 up '; }
wait_for "osd.0 up" osd_up

radosgw -c "$CONF" -n client.rgw.a 2>>"$DIR/log/daemons.log"
wait_for "radosgw answering on $SCHEME://127.0.0.1:$RGW_PORT" curl -fsS -k -o /dev/null "$SCHEME://127.0.0.1:$RGW_PORT/"

ACCESS=$(uuidgen -r | tr -d '-' | tr 'a-f' 'A-F' | cut -c1-20)
SECRET=$(uuidgen -r | tr -d '-')$(uuidgen -r | tr -d '-' | cut -c1-8)
radosgw-admin -c "$CONF" user create --uid=fxtest --display-name=fxtest \
  --access-key="$ACCESS" --secret-key="$SECRET" >"$DIR/tmp/user.json" 2>>"$DIR/log/admin.log"

cat >"$DIR/s3.env" <<ENV
S3_ENDPOINT=$SCHEME://127.0.0.1:$RGW_PORT
AWS_ACCESS_KEY_ID=$ACCESS
AWS_SECRET_ACCESS_KEY=$SECRET
AWS_REGION=us-east-1
CEPH_CONF=$CONF
ENV
cat "$DIR/s3.env"
