#!/usr/bin/env bash
# kill -9 of an agent and a restart: pods keep talking through the gap (routes stay in the kernel),
# the node keeps its subnet, and no other node replaces or re-adds a route (no flap).
source "$(dirname "$0")/common.sh"
e2e_lab
N=3
e2e_cluster $N
for i in $(seq 1 $N); do wait_routes_equal "$i" $N; done
lab_pod_add 1 1
lab_pod_add 2 1
before=$(node_subnet 2)
adds1=$(metric 1 'hostgw_route_changes_total{op="add"}')
repl1=$(metric 1 'hostgw_route_changes_total{op="replace"}')
dels1=$(metric 1 'hostgw_route_changes_total{op="delete"}')

# 60 pings over 3 s from a pod on node 1 to a pod on node 2 while node 2's agent dies and returns.
ip netns exec "$(lab_pod_ns 1 1)" ping -i 0.05 -c 60 -W 1 "$(lab_pod_ip 2 1)" >"$LAB_DIR/ping.log" 2>&1 &
ping_pid=$!
sleep 0.5
lab_agent_stop 2 KILL
lab_agent_start 2
lab_wait_ready 2
wait "$ping_pid" || true
grep -q ' 0% packet loss' "$LAB_DIR/ping.log" || fail "pings lost during the restart: $(grep -m1 'packet loss' "$LAB_DIR/ping.log")"
check "no ping lost during kill -9 and restart"

[ "$(node_subnet 2)" = "$before" ] || fail "node 2 changed subnet: $before -> $(node_subnet 2)"
check "node 2 kept its subnet $before"

for i in $(seq 1 $N); do wait_routes_equal "$i" $N; done
[ "$(metric 1 'hostgw_route_changes_total{op="add"}')" = "$adds1" ] || fail "node 1 re-added a route"
[ "$(metric 1 'hostgw_route_changes_total{op="replace"}')" = "$repl1" ] || fail "node 1 replaced a route"
[ "$(metric 1 'hostgw_route_changes_total{op="delete"}')" = "$dels1" ] || fail "node 1 deleted a route"
check "no route flap on node 1 (add/replace/delete counts unchanged)"
echo PASS
