#!/usr/bin/env bash
# The network lab: an on-prem host, a Direct Connect router and a VPC, each in its own network
# namespace, joined by veth pairs. Every address lives inside these namespaces; none has a
# default route, so nothing the lab does can leave them. See README.md beside this file.
#
#   netlab.sh up PREFIX              build the topology (removes an earlier one of that PREFIX)
#   netlab.sh down PREFIX            remove it: processes inside, namespaces, /etc/netns files
#   netlab.sh sweep                  remove debris of earlier runs whose owner pid is gone
#   netlab.sh fault PREFIX NAME      inject one fault (names: see `faults` below)
#   netlab.sh reset PREFIX           undo every fault, flush route caches and learned PMTU
#   netlab.sh counter PREFIX NAME    packets counted as evidence: public | frag-needed | v6-drop
#
# PREFIX looks like agd-<pid>: namespaces are PREFIX-onprem, PREFIX-dx, PREFIX-vpc.
set -euo pipefail

# Address plan (also in README.md).
ONPREM_IP=10.0.0.10          # on-prem host, on the datacenter subnet 10.0.0.0/24
DX_ONPREM_IP=10.0.0.1        # Direct Connect router, customer side
DX_VIF_IP=10.255.255.1       # private VIF /30, router side
VPC_VIF_IP=10.255.255.2      # private VIF /30, VPC side (virtual private gateway)
VPC_CIDR=10.20.0.0/16
RESOLVER_IP=10.20.0.2        # Route 53 Resolver inbound endpoint
ENDPOINT_A=10.20.1.10        # interface endpoint ENI, AZ a (subnet 10.20.1.0/24)
ENDPOINT_B=10.20.2.10        # interface endpoint ENI, AZ b (subnet 10.20.2.0/24)
STALE_IP=10.20.3.50          # an ENI in the VPC that is not the endpoint: nothing listens on 443
PUBLIC_NETS="198.51.100.0/24 203.0.113.0/24"   # documentation ranges posing as public answers
# IPv6 (a dualstack VPC): the documentation prefix 2001:db8::/32 stands in for the VPC's global
# unicast addresses (Amazon's 2600:1f00::/24 pool). It exists only inside these namespaces.
ONPREM_IP6=2001:db8:0:a::10     # on-prem host
DX_ONPREM_IP6=2001:db8:0:a::1   # Direct Connect router, customer side
DX_VIF_IP6=2001:db8:0:ff::1     # private VIF, router side
VPC_VIF_IP6=2001:db8:0:ff::2    # private VIF, VPC side
ONPREM_NET6=2001:db8:0:a::/64
VPC_NET6=2001:db8:20::/48
ENDPOINT_A6=2001:db8:20:1::10   # interface endpoint ENI, AZ a, IPv6
ENDPOINT_B6=2001:db8:20:2::10   # interface endpoint ENI, AZ b, IPv6
JUMBO=9000
SMALL_HOP=1500

need() { command -v "$1" >/dev/null 2>&1 || { echo "netlab: missing command: $1" >&2; exit 4; }; }

ns_onprem() { echo "$1-onprem"; }
ns_dx() { echo "$1-dx"; }
ns_vpc() { echo "$1-vpc"; }
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

valid_prefix() {
  [[ $1 =~ ^agd-[0-9]+$ ]] || { echo "netlab: prefix must look like agd-<pid>: $1" >&2; exit 4; }
}

# Ends every process inside a namespace, by pid: TERM, then KILL for the ones that stay.
kill_ns_pids() {
  local ns=$1 pids
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  [ -n "$pids" ] || return 0
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -n "$pids" ] || return 0
    sleep 0.1
  done
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
}

down() {
  local prefix=$1 ns
  valid_prefix "$prefix"
  for ns in "$(ns_onprem "$prefix")" "$(ns_dx "$prefix")" "$(ns_vpc "$prefix")"; do
    if ip netns list | awk '{print $1}' | grep -qx "$ns"; then
      kill_ns_pids "$ns"
      ip netns del "$ns" 2>/dev/null || true
    fi
    rm -rf "/etc/netns/$ns"
  done
}

# Debris is anything named agd-<pid>-* whose pid no longer runs (a run that was killed).
sweep() {
  local ns pid seen=" "
  for ns in $(ip netns list | awk '{print $1}') $(ls /etc/netns 2>/dev/null || true); do
    [[ $ns =~ ^(agd-([0-9]+))-(onprem|dx|vpc)$ ]] || continue
    pid=${BASH_REMATCH[2]}
    [[ $seen == *" ${BASH_REMATCH[1]} "* ]] && continue
    seen+="${BASH_REMATCH[1]} "
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "netlab: removing debris of an earlier run: ${BASH_REMATCH[1]}" >&2
      down "${BASH_REMATCH[1]}"
    fi
  done
}

# veth pair between two namespaces; no interface ever appears in the root namespace.
veth() {
  local ns_a=$1 if_a=$2 ns_b=$3 if_b=$4
  ip -n "$ns_a" link add name "$if_a" mtu "$JUMBO" type veth peer name "$if_b" netns "$ns_b" mtu "$JUMBO"
  # Segmentation offloads would let an oversized segment slip through the small hop untouched
  # or be cut at the receiver: turn them off so every packet is the size it claims to be.
  in_ns "$ns_a" ethtool -K "$if_a" tso off gso off gro off >/dev/null 2>&1 || true
  in_ns "$ns_b" ethtool -K "$if_b" tso off gso off gro off >/dev/null 2>&1 || true
  ip -n "$ns_a" link set "$if_a" up
  ip -n "$ns_b" link set "$if_b" up
}

up() {
  local prefix=$1
  valid_prefix "$prefix"
  need ip; need iptables; need ip6tables
  down "$prefix"
  local op dx vpc
  op=$(ns_onprem "$prefix"); dx=$(ns_dx "$prefix"); vpc=$(ns_vpc "$prefix")
  for ns in "$op" "$dx" "$vpc"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    # Linux would otherwise probe its way around a PMTU black hole after a while.
    in_ns "$ns" sysctl -qw net.ipv4.tcp_mtu_probing=0
  done
  veth "$op" eth0 "$dx" onprem0
  veth "$dx" vif0 "$vpc" vif0

  ip -n "$op" addr add "$ONPREM_IP/24" dev eth0
  ip -n "$dx" addr add "$DX_ONPREM_IP/24" dev onprem0
  ip -n "$dx" addr add "$DX_VIF_IP/30" dev vif0
  ip -n "$vpc" addr add "$VPC_VIF_IP/30" dev vif0

  # Each VPC address is an ENI; on lo they are local to the VPC namespace (no dummy driver needed).
  for ip_addr in "$RESOLVER_IP" "$ENDPOINT_A" "$ENDPOINT_B" "$STALE_IP"; do
    ip -n "$vpc" addr add "$ip_addr/32" dev lo
  done
  ipv6_up "$prefix"

  # Routes: only the prefixes BGP would advertise over the VIF. No default route anywhere.
  ip -n "$op" route add "$VPC_CIDR" via "$DX_ONPREM_IP"
  ip -n "$dx" route add "$VPC_CIDR" via "$VPC_VIF_IP"
  ip -n "$vpc" route add 10.0.0.0/24 via "$DX_VIF_IP"
  in_ns "$dx" sysctl -qw net.ipv4.ip_forward=1
  # The router sends every ICMP error a fault calls for. Left on, its per-host rate limit lets
  # only the first unreachable of a burst through, and the CLI's parallel connections to the
  # second address see silence (TCP_TIMEOUT) instead: true to life, but not one fault at a time.
  in_ns "$dx" sysctl -qw net.ipv4.icmp_ratemask=0

  # Guard and witness: anything the on-prem host sends toward a public answer is counted and
  # dropped here (the routes that make such a send possible exist only in the dns-public fault).
  in_ns "$op" iptables -N LAB_PUBLIC
  in_ns "$op" iptables -A LAB_PUBLIC -j DROP
  for net in $PUBLIC_NETS; do
    in_ns "$op" iptables -A OUTPUT -d "$net" -j LAB_PUBLIC
  done

  mkdir -p "/etc/netns/$op"
  printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$RESOLVER_IP" >"/etc/netns/$op/resolv.conf"
  printf '127.0.0.1 localhost\n::1 localhost\n' >"/etc/netns/$op/hosts"
}

# The IPv6 half of the topology: addresses without duplicate address detection (no waiting),
# routes toward the prefixes BGP would advertise, forwarding on the router. No default route.
ipv6_up() {
  local prefix=$1 op dx vpc ns
  op=$(ns_onprem "$prefix"); dx=$(ns_dx "$prefix"); vpc=$(ns_vpc "$prefix")
  for ns in "$op" "$dx" "$vpc"; do in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0; done
  in_ns "$op" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0
  ip -n "$op" -6 addr replace "$ONPREM_IP6/64" dev eth0 nodad
  ip -n "$dx" -6 addr replace "$DX_ONPREM_IP6/64" dev onprem0 nodad
  ip -n "$dx" -6 addr replace "$DX_VIF_IP6/64" dev vif0 nodad
  ip -n "$vpc" -6 addr replace "$VPC_VIF_IP6/64" dev vif0 nodad
  for ip_addr in "$ENDPOINT_A6" "$ENDPOINT_B6"; do
    ip -n "$vpc" -6 addr replace "$ip_addr/128" dev lo
  done
  ip -n "$op" -6 route replace "$VPC_NET6" via "$DX_ONPREM_IP6"
  ip -n "$dx" -6 route replace "$VPC_NET6" via "$VPC_VIF_IP6"
  ip -n "$vpc" -6 route replace "$ONPREM_NET6" via "$DX_VIF_IP6"
  in_ns "$dx" sysctl -qw net.ipv6.conf.all.forwarding=1
}

# Each fault is a change a real network makes; `reset` undoes them all.
fault() {
  local prefix=$1 name=$2 op dx vpc
  valid_prefix "$prefix"
  op=$(ns_onprem "$prefix"); dx=$(ns_dx "$prefix"); vpc=$(ns_vpc "$prefix")
  case $name in
    sg-drop-all) # endpoint security group without inbound 443 from the on-prem range
      in_ns "$vpc" iptables -A INPUT -p tcp --dport 443 -d "$ENDPOINT_A" -j DROP
      in_ns "$vpc" iptables -A INPUT -p tcp --dport 443 -d "$ENDPOINT_B" -j DROP ;;
    sg-drop-one) # same, on the ENI of AZ b only
      in_ns "$vpc" iptables -A INPUT -p tcp --dport 443 -d "$ENDPOINT_B" -j DROP ;;
    reject-rst) # a firewall rejecting with a reset
      in_ns "$vpc" iptables -A INPUT -p tcp --dport 443 -j REJECT --reject-with tcp-reset ;;
    no-route) # on-prem side lost the route to the endpoint subnets (DNS subnet still routed)
      ip -n "$op" route del "$VPC_CIDR"
      ip -n "$op" route add "${RESOLVER_IP%.*}.0/24" via "$DX_ONPREM_IP" ;;
    router-unreachable) # the router withdrew the endpoint subnets and says so with ICMP
      ip -n "$dx" route add unreachable "${ENDPOINT_A%.*}.0/24"
      ip -n "$dx" route add unreachable "${ENDPOINT_B%.*}.0/24" ;;
    small-hop) # a 1500-byte hop toward on-prem; path-MTU discovery still works (the control)
      ip -n "$dx" link set onprem0 mtu "$SMALL_HOP" ;;
    pmtu-blackhole) # the same hop, and the router never sends "fragmentation needed"
      ip -n "$dx" link set onprem0 mtu "$SMALL_HOP"
      in_ns "$dx" iptables -A OUTPUT -p icmp --icmp-type fragmentation-needed -j DROP ;;
    resolver-down) # the inbound endpoint stops answering (its security group drops DNS)
      in_ns "$vpc" iptables -A INPUT -p udp --dport 53 -d "$RESOLVER_IP" -j DROP
      in_ns "$vpc" iptables -A INPUT -p tcp --dport 53 -d "$RESOLVER_IP" -j DROP ;;
    dns-public) # routes that would carry a SYN toward a public answer (into LAB_PUBLIC)
      for net in $PUBLIC_NETS; do ip -n "$op" route add "$net" via "$DX_ONPREM_IP"; done ;;
    hosts-override) # an /etc/hosts entry pointing the endpoint name somewhere else
      printf '127.0.0.1 localhost\n::1 localhost\n%s %s\n' "$STALE_IP" "${LAB_ENDPOINT:?LAB_ENDPOINT}" \
        >"/etc/netns/$op/hosts" ;;
    sg-drop-v6) # dualstack endpoint whose security group allows 443 from IPv4 only
      in_ns "$vpc" ip6tables -A INPUT -p tcp --dport 443 -d "$ENDPOINT_A6" -j DROP
      in_ns "$vpc" ip6tables -A INPUT -p tcp --dport 443 -d "$ENDPOINT_B6" -j DROP ;;
    pmtu-blackhole-v6) # the 1500-byte hop, and the router drops its ICMPv6 Packet Too Big only:
      # IPv4 still learns the path MTU, IPv6 (which routers never fragment) does not
      ip -n "$dx" link set onprem0 mtu "$SMALL_HOP"
      in_ns "$dx" ip6tables -A OUTPUT -p icmpv6 --icmpv6-type packet-too-big -j DROP ;;
    onprem-no-ipv6) # an on-prem host without IPv6: no address, so no IPv6 connectivity
      in_ns "$op" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1 ;;
    intercept) # the router sends the endpoint's 443 to a middlebox listening on the router
      in_ns "$dx" iptables -t nat -A PREROUTING -p tcp -d "$VPC_CIDR" --dport 443 \
        -j REDIRECT --to-ports "${LAB_MIDDLEBOX_PORT:-8443}" ;;
    *) echo "netlab: unknown fault: $name" >&2; exit 4 ;;
  esac
}

reset() {
  local prefix=$1 op dx vpc ns
  valid_prefix "$prefix"
  op=$(ns_onprem "$prefix"); dx=$(ns_dx "$prefix"); vpc=$(ns_vpc "$prefix")
  for ns in "$dx" "$vpc"; do
    in_ns "$ns" iptables -F
    in_ns "$ns" iptables -t nat -F
    in_ns "$ns" ip6tables -F
  done
  ipv6_up "$prefix"
  in_ns "$op" iptables -Z LAB_PUBLIC
  ip -n "$dx" link set onprem0 mtu "$JUMBO"
  ip -n "$dx" route del unreachable "${ENDPOINT_A%.*}.0/24" 2>/dev/null || true
  ip -n "$dx" route del unreachable "${ENDPOINT_B%.*}.0/24" 2>/dev/null || true
  ip -n "$op" route del "${RESOLVER_IP%.*}.0/24" 2>/dev/null || true
  ip -n "$op" route replace "$VPC_CIDR" via "$DX_ONPREM_IP"
  for net in $PUBLIC_NETS; do ip -n "$op" route del "$net" 2>/dev/null || true; done
  printf '127.0.0.1 localhost\n::1 localhost\n' >"/etc/netns/$op/hosts"
  # A learned path MTU or cached route from the previous fault must not leak into the next.
  for ns in "$op" "$dx" "$vpc"; do
    in_ns "$ns" ip route flush cache
    in_ns "$ns" ip -6 route flush cache 2>/dev/null || true
  done
  # Conntrack state from the previous fault (NAT redirects, half-open entries) goes too.
  for ns in "$op" "$dx" "$vpc"; do
    in_ns "$ns" conntrack -F >/dev/null 2>&1 || true
  done
}

# Packet counts that prove what happened: `public` (sent toward a public answer by the on-prem
# host), `frag-needed` (ICMP fragmentation-needed the router wanted to send and did not).
counter() {
  local prefix=$1 which=$2
  valid_prefix "$prefix"
  case $which in
    public) in_ns "$(ns_onprem "$prefix")" iptables -L LAB_PUBLIC -v -n -x | awk '$3=="DROP"{n+=$1} END{print n+0}' ;;
    frag-needed) in_ns "$(ns_dx "$prefix")" iptables -L OUTPUT -v -n -x | awk '$3=="DROP" && /icmptype 3 code 4/{n+=$1} END{print n+0}' ;;
    v6-drop) in_ns "$(ns_vpc "$prefix")" ip6tables -L INPUT -v -n -x | awk '$3=="DROP"{n+=$1} END{print n+0}' ;;
    *) echo "netlab: unknown counter: $which" >&2; exit 4 ;;
  esac
}

cmd=${1:-}
case $cmd in
  up|down|reset) [ $# -eq 2 ] || { echo "usage: $0 $cmd PREFIX" >&2; exit 4; }; "$cmd" "$2" ;;
  fault|counter) [ $# -eq 3 ] || { echo "usage: $0 $cmd PREFIX NAME" >&2; exit 4; }; "$cmd" "$2" "$3" ;;
  sweep) sweep ;;
  *) sed -n '2,13p' "$0" >&2; exit 4 ;;
esac
