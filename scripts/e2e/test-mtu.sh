#!/usr/bin/env bash
# Per-peer route MTU (issue 13), the issue's setup: nodes 1 and 2 on jumbo frames (eth0 and their
# switch ports MTU 9000), node 3 on 1500. Every node publishes its link MTU with its lease; within
# 10 s nodes 1 and 2 route to node 3's pods with `mtu 1500` and name mtu-mismatch (WARNING) in
# `hostgw check`, while node 3 (the smaller one) has nothing to fix and the jumbo pair's routes
# carry no attribute. Pods get the node's MTU from the conflist: a 9000-byte don't-fragment ping
# between pods of the jumbo nodes passes; toward node 3 the sender is told "message too long"
# (node 1 itself, from its route) or gets ICMP fragmentation-needed with mtu 1500 (a pod behind
# node 1) instead of silence at node 3's port, and a 1500-byte one passes. Node 3 moved to 9000
# too: the attribute and the condition clear within 10 s, without drift.
source "$(dirname "$0")/common.sh"
e2e_lab
N=3
lab_switch_up
for i in $(seq 1 $N); do lab_node_add "$i"; done
lab_external_add
# jumbo I: node I's eth0 and its switch port on MTU 9000 (a bridge forwards by its ports' MTUs).
jumbo() {
  ip -n "$LAB-sw" link set "n$1" mtu 9000
  ip -n "$(lab_node_ns "$1")" link set eth0 mtu 9000
}
jumbo 1
jumbo 2
e2e_agents_up $N
for i in $(seq 1 $N); do wait_routes_equal "$i" $N; done
ns=$(lab_node_ns 1)

# route_mtu I J: the mtu attribute of node I's route to node J's subnet (0: none).
route_mtu() {
  ip -n "$(lab_node_ns "$1")" -j -d route show "$(node_subnet "$2")" proto 77 | jq -r '[.[0].metrics[]?.mtu // empty][0] // 0'
}
mtu_is() { [ "$(route_mtu "$1" "$2")" = "$3" ]; }

lab_wait_for 10 mtu_is 1 3 1500 || fail "node 1's route to node 3 has mtu '$(route_mtu 1 3)', want 1500"
lab_wait_for 10 mtu_is 2 3 1500 || fail "node 2's route to node 3 has mtu '$(route_mtu 2 3)', want 1500"
for pair in "1 2" "2 1" "3 1" "3 2"; do
  # shellcheck disable=SC2086
  mtu_is $pair 0 || fail "route $pair carries mtu $(route_mtu $pair): equal or larger MTUs need none"
done
# Each node publishes its MTU with its lease once it has read its link (its first reads come
# as its reconciler learns the links, within a filter period of 2 s): wait for both.
cluster_mtus() { lab_hostgw_in "$ns" status --node-name node1 --cluster --json | jq -c '[.nodes[] | {node, mtu}] | sort_by(.node)'; }
cluster_mtus_are() { [ "$(cluster_mtus)" = '[{"node":"node1","mtu":9000},{"node":"node2","mtu":9000},{"node":"node3","mtu":1500}]' ]; }
lab_wait_for 10 cluster_mtus_are || fail "status --cluster does not show the MTUs 9000/9000/1500 within 10 s: $(cluster_mtus)"
check "nodes 1 and 2 (9000) route to node 3 (1500) with mtu 1500, no other route carries one, status --cluster shows 9000/1500"

want="mtu-mismatch: 1 peer(s) publish a smaller link MTU than eth0's 9000 (node3 1500)"
lab_wait_for 10 check_is 1 "$want" || fail "node 1's check is not WARNING '$want': $(check_line)"
cond_is mtu-mismatch 1 || fail "hostgw_datapath_condition{condition=mtu-mismatch} is '$(cond mtu-mismatch)' on node 1"
out=$(lab_hostgw_in "$(lab_node_ns 3)" check --node-name node3) || fail "node 3 (the smaller MTU) is not OK: $out"
check "node 1: check WARNING naming node3 1500, metric 1; node 3: $out"

for i in 1 2 3; do lab_pod_add "$i" 1; done
pod=$(lab_pod_ns 1 1)
pod_mtu=$(ip -n "$pod" -j link show eth0 | jq -r '.[0].mtu')
[ "$pod_mtu" = 9000 ] || fail "node 1's pod has MTU $pod_mtu: the conflist should carry the node's 9000"
# 8972 bytes of ICMP payload + 28 of headers = 9000: whole between the jumbo nodes' pods.
ip netns exec "$pod" ping -n -c 1 -W 2 -M do -s 8972 "$(lab_pod_ip 2 1)" >/dev/null ||
  fail "a 9000-byte DF ping from node 1's pod to node 2's pod did not pass"
check "pod on node 1 (MTU 9000) -> pod on node 2: 9000-byte don't-fragment ping passes"

dst=$(lab_pod_ip 3 1)
local_err=$(ip netns exec "$ns" ping -n -c 1 -W 2 -M do -s 8972 "$dst" 2>&1 || true)
[[ $local_err == *"message too long"* ]] || fail "node 1 sending 9000 bytes DF to node 3's pod was not told 'message too long': $local_err"
pod_err=$(ip netns exec "$pod" ping -n -c 2 -i 0.3 -W 2 -M do -s 8972 "$dst" 2>&1 || true)
[[ $pod_err == *"mtu = 1500"* || $pod_err == *"message too long"* ]] ||
  fail "a 9000-byte DF ping from node 1's pod to node 3's pod got neither fragmentation-needed (mtu 1500) nor 'message too long': $pod_err"
ip netns exec "$pod" ping -n -c 1 -W 2 -M do -s 1472 "$dst" >/dev/null || fail "a 1500-byte DF ping from node 1's pod to node 3's pod did not pass"
check "toward node 3: node 1 gets 'message too long', its pod $(grep -o 'mtu = 1500\|message too long' <<<"$pod_err" | head -1); a 1500-byte packet passes"

drift_before=$(metric_sum 1 hostgw_drift_events_total)
jumbo 3
lab_wait_for 10 mtu_is 1 3 0 || fail "node 1's route to node 3 still has mtu $(route_mtu 1 3) 10 s after node 3 went to 9000"
lab_wait_for 10 check_is 0 "HOSTGW OK" || fail "node 1's check not OK after node 3 went to 9000: $(check_line)"
[ "$(metric_sum 1 hostgw_drift_events_total)" = "$drift_before" ] || fail "node 1 counted drift for an MTU change"
wait_routes_equal 1 $N
check "node 3 on 9000 too: node 1's route loses the attribute and its check is OK within 10 s, no drift"
echo PASS
