#!/usr/bin/env bash
# Per-peer route MTU (issue 13): node 3's interface is on MTU 1400, nodes 1 and 2 on 1500. Node 3
# publishes its MTU with its lease; within 10 s nodes 1 and 2 route to node 3's pods with
# `mtu 1400` and name mtu-mismatch (WARNING) in `hostgw check`, while node 3 (the smaller one)
# has nothing to fix. A pod on node 1 sending a 1500-byte don't-fragment packet to a pod on node 3
# gets ICMP "fragmentation needed, mtu 1400" back instead of silence, and a 1400-byte one passes.
# Node 3 back on 1500: the attribute and the condition clear within 10 s, without drift.
source "$(dirname "$0")/common.sh"
e2e_lab
N=3
lab_switch_up
for i in $(seq 1 $N); do lab_node_add "$i"; done
lab_external_add
ip -n "$(lab_node_ns 3)" link set eth0 mtu 1400
e2e_agents_up $N
for i in $(seq 1 $N); do wait_routes_equal "$i" $N; done
ns=$(lab_node_ns 1)

# route_mtu I J: the mtu attribute of node I's route to node J's subnet (0: none).
route_mtu() {
  ip -n "$(lab_node_ns "$1")" -j -d route show "$(node_subnet "$2")" proto 77 | jq -r '[.[0].metrics[]?.mtu // empty][0] // 0'
}
mtu_is() { [ "$(route_mtu "$1" "$2")" = "$3" ]; }

lab_wait_for 10 mtu_is 1 3 1400 || fail "node 1's route to node 3 has mtu '$(route_mtu 1 3)', want 1400"
lab_wait_for 10 mtu_is 2 3 1400 || fail "node 2's route to node 3 has mtu '$(route_mtu 2 3)', want 1400"
for pair in "1 2" "2 1" "3 1" "3 2"; do
  # shellcheck disable=SC2086
  mtu_is $pair 0 || fail "route $pair carries mtu $(route_mtu $pair): equal or larger MTUs need none"
done
lab_hostgw_in "$(lab_node_ns 1)" leases --json >/dev/null
[ "$(lab_hostgw_in "$ns" status --node-name node1 --cluster --json | jq -r '.nodes[] | select(.node == "node3") | .mtu')" = 1400 ] ||
  fail "status --cluster does not show node 3's MTU: $(lab_hostgw_in "$ns" status --node-name node1 --cluster --json | jq -c '[.nodes[] | {node, mtu}]')"
check "node 3 publishes MTU 1400: nodes 1 and 2 route to it with mtu 1400, no other route carries one, status --cluster shows it"

want="mtu-mismatch: 1 peer(s) publish a smaller link MTU than eth0's 1500 (node3 1400)"
lab_wait_for 10 check_is 1 "$want" || fail "node 1's check is not WARNING '$want': $(check_line)"
cond_is mtu-mismatch 1 || fail "hostgw_datapath_condition{condition=mtu-mismatch} is '$(cond mtu-mismatch)' on node 1"
out=$(lab_hostgw_in "$(lab_node_ns 3)" check --node-name node3) || fail "node 3 (the smaller MTU) is not OK: $out"
check "node 1: check WARNING naming node3 1400 and the fix, metric 1; node 3: $out"

lab_pod_add 1 1
lab_pod_add 3 1
pod=$(lab_pod_ns 1 1)
dst=$(lab_pod_ip 3 1)
# 1472 bytes of ICMP payload + 28 of headers = 1500, over the 1400 hop: refused at node 1 with
# the MTU, not dropped in silence at node 3's link.
big=$(ip netns exec "$pod" ping -n -c 1 -W 2 -M do -s 1472 "$dst" 2>&1 || true)
[[ $big == *"mtu = 1400"* ]] || fail "a 1500-byte DF packet to node 3's pod did not get fragmentation-needed mtu 1400: $big"
ip netns exec "$pod" ping -n -c 1 -W 2 -M do -s 1372 "$dst" >/dev/null || fail "a 1400-byte packet from node 1's pod to node 3's pod did not pass"
check "pod on node 1 -> pod on node 3: 1500-byte DF packet answered 'Frag needed ... (mtu = 1400)', 1400-byte packet passes"

drift_before=$(metric_sum 1 hostgw_drift_events_total)
ip -n "$(lab_node_ns 3)" link set eth0 mtu 1500
lab_wait_for 10 mtu_is 1 3 0 || fail "node 1's route to node 3 still has mtu $(route_mtu 1 3) 10 s after node 3 went to 1500"
lab_wait_for 10 check_is 0 "HOSTGW OK" || fail "node 1's check not OK after node 3 went to 1500: $(check_line)"
[ "$(metric_sum 1 hostgw_drift_events_total)" = "$drift_before" ] || fail "node 1 counted drift for an MTU change"
wait_routes_equal 1 $N
check "node 3 back on 1500: node 1's route loses the attribute and its check is OK within 10 s, no drift"
echo PASS
