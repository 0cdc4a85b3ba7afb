#!/usr/bin/env bash
# The leader of a 3-member etcd cluster is killed while agents renew (short TTL) and watch: no
# agent loses its lease or exits, routes stay, and a node joining afterwards reaches everyone.
source "$(dirname "$0")/common.sh"
e2e_lab
LAB_STORE=etcd3
N=2
LAB_LEASE_TTL=15s e2e_cluster $N
for i in 1 2; do wait_routes_equal "$i" $N; done
s1=$(node_subnet 1)
s2=$(node_subnet 2)
leader=$(lab_etcd_leader)
pid=$(awk -v n="etcd-$leader" '$2 == n {print $1}' "$LAB_DIR/pids")
kill -KILL "$pid"
check "killed etcd leader $leader (pid $pid)"
# Three renewal periods (TTL 15 s renews every 5 s) without the old leader.
sleep 16
for i in 1 2; do
  kill -0 "$(lab_agent_pid "$i")" 2>/dev/null || fail "node $i's agent exited after the leader kill: $(tail -3 "$LAB_DIR/n$i/agent.log")"
  ! grep -q "lease lost" "$LAB_DIR/n$i/agent.log" || fail "node $i lost its lease"
done
[ "$(node_subnet 1)" = "$s1" ] && [ "$(node_subnet 2)" = "$s2" ] || fail "a node changed subnet"
for i in 1 2; do routes_match "$i" $N || fail "node $i routes changed: [$(hostgw_routes "$i" | tr '\n' ';')]"; done
leases=$(lab_hostgw_in "$(lab_node_ns 1)" leases --json | jq '.leases | length')
[ "$leases" = 2 ] || fail "the store holds $leases leases, want 2"
check "no lease lost, no agent exit, routes intact after 3 renewals without the old leader"
lab_node_add 3
LAB_LEASE_TTL=15s lab_agent_start 3
lab_wait_ready 3
for i in 1 2 3; do wait_routes_equal "$i" 3; done
check "a node joining after the kill is routed by every node (watches resumed)"
echo PASS
