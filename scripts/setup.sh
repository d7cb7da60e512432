#!/usr/bin/env bash
# Shared by scripts/test and scripts/demo: install what a fresh Debian machine
# (as root) lacks, then dependencies and the build. Idempotent and quiet when
# everything is there already.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

need=()
command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
command -v rsync >/dev/null 2>&1 || need+=(rsync)
command -v ss >/dev/null 2>&1 || need+=(iproute2)
# The partition lab (test/lab/netns.ts) cuts links with nftables inside its namespaces.
command -v nft >/dev/null 2>&1 || [ -x /usr/sbin/nft ] || need+=(nftables)
command -v fuser >/dev/null 2>&1 || need+=(psmisc)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v sqlite3 >/dev/null 2>&1 || need+=(sqlite3)
command -v setsid >/dev/null 2>&1 || need+=(util-linux)
# The postgres e2e starts two real clusters from Debian's binaries.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
command -v node >/dev/null 2>&1 || need+=(nodejs npm)
# The partition tests and the demo start real etcd members (coordination.etcd); Debian ships 3.4.
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || need+=(etcd-client)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
mkdir -p /run/sshd && chmod 755 /run/sshd

# Reinstall dependencies when package-lock.json changed since the last install.
stamp=node_modules/.hactl-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  cp package-lock.json "$stamp"
fi
if ! out=$(npm run -s build 2>&1); then
  echo "$out" >&2
  echo "setup: the build failed (above)" >&2
  exit 1
fi
