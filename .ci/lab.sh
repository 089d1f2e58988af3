#!/usr/bin/env bash
# The network lab (test/lab): installs what it needs from Debian when missing, then runs it.
# Needs root (namespaces, iptables). Called by .ci/run after `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v iptables >/dev/null 2>&1 || missing+=(iptables)
command -v ip6tables >/dev/null 2>&1 || missing+=(iptables)
command -v ethtool >/dev/null 2>&1 || missing+=(ethtool)
command -v conntrack >/dev/null 2>&1 || missing+=(conntrack)
# test/lab/daemon.test.ts runs a real Prometheus (and promtool) against the daemon's /probe.
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
# test/lab/newcodes.test.ts: dnsmasq answers the zone-wide forward and the AAAA-only records
# (dnsmasq-base: the binary, without a system service).
command -v dnsmasq >/dev/null 2>&1 || missing+=(dnsmasq-base)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "lab: missing ${missing[*]} and not root: cannot install them" >&2
  else
    echo "lab: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Another job may hold the dpkg lock for a while: wait for it rather than fail.
    apt-get -o DPkg::Lock::Timeout=300 update -qq
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

[ -d node_modules ] || npm ci --no-audit --no-fund
npm run test:lab
