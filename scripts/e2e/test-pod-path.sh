#!/usr/bin/env bash
# Probes through the pod route (issue 13): once a node has pods, it publishes its pod gateway
# (the CNI bridge's address) and its peers probe it through the installed pod route, from their
# own pod gateway. `tc netem` delay on node 2 shows in node 1's measured RTT, the peer staying
# reachable; a filter on node 2 that drops what it sends toward node 1's pods (the node itself
# still answering) makes node 2 unreachable for pods on node 1, named as such, within 10 s;
# every route stays as it was, and all clears on the repair.
source "$(dirname "$0")/common.sh"
e2e_lab
N=3
e2e_cluster $N
for i in $(seq 1 $N); do wait_routes_equal "$i" $N; done
ns=$(lab_node_ns 1)
ns2=$(lab_node_ns 2)
lab_pod_add 1 1
lab_pod_add 2 1

peer2() { lab_hostgw_in "$ns" status --node-name node1 --json | jq -c '[.routeSync.peers[] | select(.node == "node2") | .reachability][0]'; }
pod_state_is() { [ "$(peer2 | jq -r '.pod.state // "none"')" = "$1" ]; }
state_is() { [ "$(peer2 | jq -r '.state')" = "$1" ]; }
rtt_at_least() { peer2 | jq -e --argjson s "$1" '.node.lastRTT >= $s' >/dev/null; }

lab_wait_for 15 pod_state_is reachable || fail "node 1 does not probe node 2's pod gateway through the pod route: $(peer2)"
gw2=$(lab_hostgw_in "$ns" status --node-name node1 --cluster --json | jq -r '.nodes[] | select(.node == "node2") | .podGateway')
[[ $gw2 == "$(node_subnet 2 | sed 's#\.0/24##')".* ]] || fail "node 2's published pod gateway '$gw2' is not in its subnet $(node_subnet 2)"
routes_before="$(hostgw_routes 1);$(hostgw_routes 2)"
check "pods on both nodes: node 2 publishes pod gateway $gw2, node 1 reaches it through the pod route"

if ip netns exec "$ns2" tc qdisc add dev eth0 root netem delay 40ms 2>/dev/null; then
  lab_wait_for 10 rtt_at_least 0.04 || fail "node 1's RTT to node 2 does not show the 40 ms delay: $(peer2)"
  state_is reachable || fail "a slow peer is not unreachable: $(peer2)"
  ip netns exec "$ns2" tc qdisc del dev eth0 root
  check "tc netem delay 40ms on node 2: node 1 measures RTT >= 40 ms, node 2 stays reachable"
else
  check "SKIPPED the netem delay step: this kernel has no sch_netem (tc: qdisc kind netem unknown)"
fi

net1=$(node_subnet 1)
ip netns exec "$ns2" nft "add table ip hgwpod"
ip netns exec "$ns2" nft "add chain ip hgwpod out { type filter hook output priority 0 ; }"
ip netns exec "$ns2" nft "add rule ip hgwpod out ip daddr $net1 drop"
lab_wait_for 10 state_is unreachable || fail "node 1 does not mark node 2 unreachable for pods within 10 s: $(peer2)"
[[ $(peer2 | jq -r .reason) == "the node answers but its pod gateway does not"* ]] || fail "the reason does not name the pod path: $(peer2)"
[ "$(peer2 | jq -r .node.state)" = reachable ] || fail "node 2's node path should still answer: $(peer2)"
check_is 1 "1 peer(s) unreachable (node2 (" || fail "node 1's check is not WARNING naming node2: $(check_line)"
[ "$(hostgw_routes 1);$(hostgw_routes 2)" = "$routes_before" ] || fail "routes changed"
check "node 2 drops what it sends to node 1's pods: node 1 marks it unreachable for pods (node path fine), check WARNING, routes kept"
ip netns exec "$ns2" nft "delete table ip hgwpod"
lab_wait_for 10 state_is reachable || fail "node 2 not reachable again within 10 s: $(peer2)"
lab_wait_for 10 check_is 0 "HOSTGW OK" || fail "node 1's check not OK after the repair: $(check_line)"
[ "$(hostgw_routes 1);$(hostgw_routes 2)" = "$routes_before" ] || fail "routes changed"
check "filter removed: reachable and OK within 10 s, routes never changed"
echo PASS
