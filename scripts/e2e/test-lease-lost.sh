#!/usr/bin/env bash
# A lease taken over behind the agent's back by another hostgw agent (another machine's holder
# in the value) is never fought over nor dropped silently: the agent says so, exits non-zero (so
# systemd restarts it) and leaves its routes in place. `status` then works without the agent,
# from the store and the kernel. (A deleted or hand-overwritten lease is repaired instead:
# test-own-key.sh.)
source "$(dirname "$0")/common.sh"
e2e_lab
LAB_STORE=etcd
N=2
LAB_LEASE_TTL=12s e2e_cluster $N
for i in 1 2; do wait_routes_equal "$i" $N; done
key="/coreos.com/network/subnets/$(node_subnet 1 | tr / -)"
theirs='{"PublicIP":"10.77.0.50","BackendType":"host-gw","NodeName":"node1","Holder":{"ID":"another-machine"}}'
ip netns exec "$LAB-sw" etcdctl --endpoints http://127.0.0.1:2379 put "$key" "$theirs" | grep -q OK || fail "could not overwrite $key"
pid=$(lab_agent_pid 1)
lab_wait_for 20 bash -c "! kill -0 $pid 2>/dev/null" || fail "agent kept running 20 s after another agent took its lease"
set +e
wait "$pid"
code=$?
set -e
[ "$code" != 0 ] || fail "agent exited 0 after losing its lease"
grep -q "lease lost" "$LAB_DIR/n1/agent.log" || fail "the agent did not say its lease was lost"
routes_match 1 $N || fail "routes changed when the lease was lost: [$(hostgw_routes 1 | tr '\n' ';')]"
[ "$(ip netns exec "$LAB-sw" etcdctl --endpoints http://127.0.0.1:2379 get --print-value-only "$key")" = "$theirs" ] ||
  fail "the agent fought over a key another agent holds"
check "lease taken by another agent: agent logged it, exited $code, left the key and its routes alone"

lab_hostgw_in "$(lab_node_ns 1)" status --json --node-name node1 >"$LAB_DIR/offline.json"
jq -e '.agentRunning == false' "$LAB_DIR/offline.json" >/dev/null || fail "status did not notice the agent is down"
jq -e '.lease == null' "$LAB_DIR/offline.json" >/dev/null || fail "status shows a lease that is gone"
jq -e --arg s "$(node_subnet 2)" '[.routeSync.peers[] | select(.subnet == $s and .state == "ok")] | length == 1' "$LAB_DIR/offline.json" >/dev/null ||
  fail "offline status does not show node 2's route ok: $(jq -c .routeSync.peers "$LAB_DIR/offline.json")"
lab_hostgw_in "$(lab_node_ns 1)" status --node-name node1 | grep -q "AGENT NOT RUNNING" || fail "human status does not say the agent is down"
check "status without the agent: agent down, no lease, node 2's route ok from the kernel"
echo PASS
