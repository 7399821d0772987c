#!/usr/bin/env bash
# Installs the Debian packages the test suite uses when they are missing (root only; otherwise
# the tests that need them skip with a printed reason).
set -u
need=()
command -v getfattr >/dev/null || need+=(attr)
command -v setfacl >/dev/null || need+=(acl)
command -v mkfifo >/dev/null || need+=(coreutils)
# tar export/import tests check each compression with its CLI (they skip when it is missing).
command -v zstd >/dev/null || need+=(zstd)
command -v lz4 >/dev/null || need+=(lz4)
command -v xz >/dev/null || need+=(xz-utils)
# The ssh pipeline test runs its own sshd on 127.0.0.1 (test/helpers/loopback-sshd.ts).
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null || need+=(openssh-client)
# The copy engine's tests compare with real rsync (filter rules, itemize, delete) and copy on
# loop-mounted XFS and btrfs image files (reflinks, holes).
command -v rsync >/dev/null || need+=(rsync)
command -v mkfs.xfs >/dev/null || need+=(xfsprogs)
command -v mkfs.btrfs >/dev/null || need+=(btrfs-progs)
command -v losetup >/dev/null || need+=(mount)
# The completion tests source the scripts in each shell; the man page tests render with groff and man.
command -v zsh >/dev/null || need+=(zsh)
command -v fish >/dev/null || need+=(fish)
command -v groff >/dev/null || need+=(groff-base)
command -v man >/dev/null || need+=(man-db)
# The benchmark charts' test parses each SVG as XML and renders it with librsvg.
command -v rsvg-convert >/dev/null || need+=(librsvg2-bin)
# foxingd's tests: its --tui runs under tmux; python3 stands in for systemd's notify socket.
command -v tmux >/dev/null || need+=(tmux)
command -v python3 >/dev/null || need+=(python3)
# The S3 store tests run a throwaway single-node Ceph (mon, memstore osd, radosgw on 127.0.0.1;
# test/setup/ceph-up.sh); restic is the peer in the s3 benchmark.
command -v ceph-mon >/dev/null || need+=(ceph-mon)
command -v ceph-osd >/dev/null || need+=(ceph-osd)
command -v radosgw >/dev/null || need+=(radosgw)
command -v ceph-authtool >/dev/null || need+=(ceph-common)
command -v uuidgen >/dev/null || need+=(uuid-runtime)
command -v curl >/dev/null || need+=(curl)
command -v openssl >/dev/null || need+=(openssl)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then echo "setup: not root; tests needing ${need[*]} will skip" >&2; exit 0; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || true
# Packages must not start system services here (openssh-server would start an sshd on port 22):
# policy-rc.d exit 101 tells invoke-rc.d "not now", for the length of this install only.
had_policy=0; [ -e /usr/sbin/policy-rc.d ] && had_policy=1
[ $had_policy = 1 ] || printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 || echo "setup: could not install ${need[*]}; dependent tests will skip" >&2
[ $had_policy = 1 ] || rm -f /usr/sbin/policy-rc.d
exit 0
