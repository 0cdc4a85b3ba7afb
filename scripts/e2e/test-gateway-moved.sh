#!/usr/bin/env bash
# A peer's IP moves to a new MAC (issue 13): node 2's eth0 gets another link-layer address, as a
# replaced machine or a failover would, and announces it with a gratuitous ARP (the kernel's own,
# arp_notify=1). Within 10 s node 1's kernel neighbour entry holds the new MAC and node 1 counts
# the move (hostgw_peer_gateway_lladdr_changes_total >= 1), while the route, reachability and
# `hostgw check` stay as they were and no drift is counted. Then the move hostgw once missed:
# node 2 is cut off at the switch until node 1's entry for it is FAILED, moves to a third MAC
# while cut off (its announcement lost), and comes back: the entry resolves to the third MAC
# and that move is counted too (>= 2), across the FAILED entry; node 2 is reachable again.
source "$(dirname "$0")/common.sh"
e2e_lab
N=2
e2e_cluster $N
for i in $(seq 1 $N); do wait_routes_equal "$i" $N; done
ns=$(lab_node_ns 1)
ns2=$(lab_node_ns 2)
gw=$(lab_node_ip 2)
# Node 1's neighbour timers short, so that a silent peer's entry is FAILED within seconds
# (reachable 0.5-1.5 s, then 1 s delay, then 3 probes 1 s apart), not after a minute.
ip netns exec "$ns" sysctl -qw net.ipv4.neigh.eth0.base_reachable_time_ms=1000 net.ipv4.neigh.eth0.delay_first_probe_time=1
ip netns exec "$ns2" sysctl -qw net.ipv4.conf.eth0.arp_notify=1

neigh_mac() { ip -n "$ns" -j neigh show "$gw" dev eth0 | jq -r '.[0].lladdr // "none"'; }
neigh_state() { ip -n "$ns" -j neigh show "$gw" dev eth0 | jq -r '(.[0].state // ["none"]) | join(",")'; }
mac_is() { [ "$(neigh_mac)" = "$1" ]; }
state_failed() { [[ $(neigh_state) == *FAILED* || $(neigh_state) == *INCOMPLETE* ]]; }
moves() { metric 1 hostgw_peer_gateway_lladdr_changes_total | awk '{print $1 + 0}'; }
moves_at_least() { (($(moves) >= $1)); }
reach_of() {
  lab_hostgw_in "$ns" status --node-name node1 --json |
    jq -r '[.routeSync.peers[] | select(.node == "node2") | .reachability.state // "none"][0]'
}
reach_is() { [ "$(reach_of)" = "$1" ]; }

lab_wait_for 10 reach_is reachable || fail "node 1 does not see node2 reachable: $(reach_of)"
lab_wait_for 10 mac_is "$(ip -n "$ns2" -j link show eth0 | jq -r '.[0].address')" || fail "node 1 has no entry for node 2's MAC: $(neigh_mac)"
[ "$(moves)" = 0 ] || fail "node 1 counts $(moves) gateway moves on a healthy cluster"
routes_before=$(hostgw_routes 1)
drift_before=$(metric_sum 1 hostgw_drift_events_total)
check "healthy: node 1's entry for $gw is node 2's MAC $(neigh_mac), no move counted"

# --- a move announced by gratuitous ARP ----------------------------------------------------------
ip -n "$ns2" link set eth0 address 02:42:0a:00:02:01
lab_wait_for 10 mac_is 02:42:0a:00:02:01 || fail "node 1's entry did not follow node 2's new MAC: $(neigh_mac) ($(neigh_state))"
lab_wait_for 10 moves_at_least 1 || fail "node 1 did not count the move: hostgw_peer_gateway_lladdr_changes_total $(moves)"
lab_wait_for 10 reach_is reachable || fail "node 2 not reachable after its move: $(reach_of)"
lab_wait_for 10 check_is 0 "HOSTGW OK" || fail "node 1's check is not OK after the move: $(check_line)"
[ "$(hostgw_routes 1)" = "$routes_before" ] || fail "node 1's routes changed on a MAC move: $(hostgw_routes 1)"
check "node 2 moved to 02:42:0a:00:02:01: node 1's entry follows, the move is counted ($(moves)), route, reachability and check unchanged"

# --- a move while the entry is FAILED ------------------------------------------------------------
counted=$(moves)
ip netns exec "$LAB-sw" nft "add table bridge hgwmove"
ip netns exec "$LAB-sw" nft "add chain bridge hgwmove cut { type filter hook forward priority 0 ; }"
ip netns exec "$LAB-sw" nft "add rule bridge hgwmove cut iifname n2 drop"
lab_wait_for 20 state_failed || fail "node 1's entry for node 2 is not FAILED while node 2 is cut off: $(neigh_state)"
ip -n "$ns2" link set eth0 address 02:42:0a:00:02:02
ip netns exec "$LAB-sw" nft "delete table bridge hgwmove"
lab_wait_for 10 mac_is 02:42:0a:00:02:02 || fail "node 1's entry did not resolve to node 2's third MAC: $(neigh_mac) ($(neigh_state))"
lab_wait_for 10 moves_at_least $((counted + 1)) || fail "the move across the FAILED entry was not counted: still $(moves)"
lab_wait_for 10 reach_is reachable || fail "node 2 not reachable after it came back: $(reach_of)"
lab_wait_for 10 check_is 0 "HOSTGW OK" || fail "node 1's check is not OK after node 2 came back: $(check_line)"
[ "$(hostgw_routes 1)" = "$routes_before" ] || fail "node 1's routes changed: $(hostgw_routes 1)"
[ "$(metric_sum 1 hostgw_drift_events_total)" = "$drift_before" ] || fail "node 1 counted drift for a MAC move"
check "node 2 moved to 02:42:0a:00:02:02 while its entry was FAILED: counted ($(moves)), reachable and OK again, routes unchanged, no drift"
echo PASS
