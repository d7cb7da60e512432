#!/usr/bin/env bash
# The LAB's setup, shared by scripts/test, scripts/demo and scripts/bench: the
# packages the simulated hosts need on a fresh Debian machine (as root): sshd
# plays the primary and the standby, postgres the memory store, curl, sqlite3,
# iproute2 (ss), psmisc (fuser), util-linux (setsid, script) for the tests;
# then what the witness needs (scripts/install-witness: ssh, rsync, node, npm ci,
# the build). A real witness runs scripts/install-witness only.
# Idempotent and quiet when everything is there already.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

need=()
command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ss >/dev/null 2>&1 || need+=(iproute2)
# The partition lab (test/lab/netns.ts) cuts links with nftables inside its namespaces.
command -v nft >/dev/null 2>&1 || [ -x /usr/sbin/nft ] || need+=(nftables)
command -v fuser >/dev/null 2>&1 || need+=(psmisc)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v sqlite3 >/dev/null 2>&1 || need+=(sqlite3)
command -v setsid >/dev/null 2>&1 || need+=(util-linux)
command -v script >/dev/null 2>&1 || need+=(bsdutils) # the pseudo-terminal of the by-hand test
# hactl's in-process lock (native/flock.c) is built with the C compiler; test/unit/lock-native.test.ts
# requires it here (a witness without one takes its locks with flock(1)).
command -v cc >/dev/null 2>&1 || need+=(gcc libc6-dev)
# The postgres e2e starts two real clusters from Debian's binaries.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
# The partition tests and the demo start real etcd members (coordination.etcd); Debian ships 3.4.
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || need+=(etcd-client)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]} (the lab's hosts)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
mkdir -p /run/sshd && chmod 755 /run/sshd
# The lab's tests run `crontab` in a scratch HOME only where they say so; no cron daemon needed.
HACTL_NO_CRON=${HACTL_NO_CRON-1} bash scripts/install-witness
