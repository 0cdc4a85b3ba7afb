#!/usr/bin/env bash
# IPv6 forwarding on a dual-stack lab (issue 13): net.ipv6.conf.all.forwarding=0 on node 1 is
# CRITICAL ipv6-forwarding-off within 5 s (check, status JSON, metric, /healthz 503) and clears
# within 5 s of the repair; the node interface's IPv6 forwarding alone is a WARNING (the global
# switch decides whether IPv6 forwards). Node 1's routes of both families never change.
export LAB_FAMILIES=dual
source "$(dirname "$0")/common.sh"
e2e_lab
N=2
e2e_cluster $N
wait_routes_equal 1 $N
wait_routes_equal -6 1 $N
ns=$(lab_node_ns 1)

before4=$(hostgw_routes 1)
before6=$(hostgw_routes -6 1)
changes=$(metric_sum 1 hostgw_route_changes_total)
routes_kept() {
  [ "$(hostgw_routes 1)" = "$before4" ] && [ "$(hostgw_routes -6 1)" = "$before6" ] || fail "node 1's routes changed"
  [ "$(metric_sum 1 hostgw_route_changes_total)" = "$changes" ] || fail "node 1 sent route changes"
}

check_is 0 "HOSTGW OK" || fail "hostgw check is not OK on a healthy dual-stack node: $(check_line)"
lab_hostgw_in "$ns" status --node-name node1 | grep -q '^datapath   forwarding ipv4 all on, ipv4 eth0 on, ipv6 all on, ipv6 eth0 on$' ||
  fail "status does not show both families' forwarding: $(lab_hostgw_in "$ns" status --node-name node1 | grep datapath)"
check "healthy dual-stack node: check OK, status shows IPv4 and IPv6 forwarding on"

ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.forwarding=0
lab_wait_for 5 check_is 2 "ipv6-forwarding-off: IPv6 forwarding is off (net.ipv6.conf.all.forwarding = 0)" ||
  fail "hostgw check is not CRITICAL naming ipv6-forwarding-off: $(check_line)"
cond_is ipv6-forwarding-off 1 || fail "ipv6-forwarding-off is '$(cond ipv6-forwarding-off)'"
lab_hostgw_in "$ns" status --node-name node1 --json |
  jq -e '[.datapath.conditions[] | select(.condition == "ipv6-forwarding-off" and .severity == "critical")] | length == 1' >/dev/null ||
  fail "status --json lacks ipv6-forwarding-off"
[ "$(healthz)" = 503 ] || fail "/healthz answers $(healthz) while IPv6 forwarding is off"
routes_kept
check "net.ipv6.conf.all.forwarding=0: CRITICAL ipv6-forwarding-off within 5 s (check, JSON, metric, /healthz 503), routes kept"
ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.forwarding=1
lab_wait_for 5 check_is 0 "HOSTGW OK" || fail "hostgw check not OK 5 s after the repair: $(check_line)"
lab_wait_for 5 cond_is ipv6-forwarding-off 0 || fail "ipv6-forwarding-off still '$(cond ipv6-forwarding-off)'"
[ "$(healthz)" = 200 ] || fail "/healthz answers $(healthz) after the repair"
check "IPv6 forwarding back on: cleared within 5 s"

ip netns exec "$ns" sysctl -qw net.ipv6.conf.eth0.forwarding=0
lab_wait_for 5 check_is 1 "ipv6-interface-forwarding-off: IPv6 forwarding is off on eth0" ||
  fail "hostgw check is not WARNING naming ipv6-interface-forwarding-off: $(check_line)"
[ "$(healthz)" = 200 ] || fail "/healthz answers $(healthz) for a warning"
ip netns exec "$ns" sysctl -qw net.ipv6.conf.eth0.forwarding=1
lab_wait_for 5 check_is 0 "HOSTGW OK" || fail "hostgw check not OK 5 s after eth0 IPv6 forwarding is back: $(check_line)"
routes_kept
check "net.ipv6.conf.eth0.forwarding=0: WARNING within 5 s, /healthz 200, cleared within 5 s; routes never changed"
echo PASS
