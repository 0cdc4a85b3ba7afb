#!/usr/bin/env bash
# Drift injection: a deleted route comes back (missing), a wrong gateway is repaired (changed),
# a foreign overlapping route is left alone and reported (conflict). Counted in /metrics and
# shown by `status --json`.
source "$(dirname "$0")/common.sh"
e2e_lab
N=3
e2e_cluster $N
wait_routes_equal 1 $N
ns=$(lab_node_ns 1)
s2=$(node_subnet 2)
s3=$(node_subnet 3)

ip -n "$ns" route del "$s2"
wait_routes_equal 1 $N 5
metric_is() { [ "$(metric "$1" "$2")" = "$3" ]; }
lab_wait_for 5 metric_is 1 'hostgw_drift_events_total{kind="missing"}' 1 ||
  fail "missing drift count is $(metric 1 'hostgw_drift_events_total{kind="missing"}'), want 1"
check "deleted route restored, one missing drift counted"

# A wrong gateway, still with hostgw's marker (someone edited our route).
ip -n "$ns" route replace "$s3" via "$(lab_node_ip 2)" proto 77
wait_routes_equal 1 $N 5
lab_wait_for 5 metric_is 1 'hostgw_drift_events_total{kind="changed"}' 1 ||
  fail "changed drift count is $(metric 1 'hostgw_drift_events_total{kind="changed"}'), want 1"
check "wrong gateway repaired, one changed drift counted"

# A foreign route (proto static) covering part of node 3's subnet.
foreign="${s3%.*/*}.128/25"
ip -n "$ns" route add "$foreign" via "$(lab_node_ip 2)" proto static
lab_wait_for 5 bash -c "ip netns exec $ns curl -fsS 127.0.0.1:9447/status | jq -e '[.routeSync.peers[] | select(.state == \"conflict\")] | length == 1'" ||
  fail "status does not report exactly one conflict: $(ip netns exec "$ns" curl -fsS 127.0.0.1:9447/status | jq -c '[.routeSync.peers[] | {subnet, state}]')"
ip -n "$ns" route show "$foreign" proto static | grep -q "via $(lab_node_ip 2)" || fail "the foreign route was modified"
[ "$(metric 1 'hostgw_drift_events_total{kind="conflict"}')" -ge 1 ] || fail "no conflict drift counted"
check "foreign route untouched, peer reported as conflict"

# status --json (agent running) matches the kernel.
lab_hostgw_in "$ns" status --json >"$LAB_DIR/status.json"
jq -e '.agentRunning == true' "$LAB_DIR/status.json" >/dev/null || fail "status says the agent is not running"
jq -e --arg s "$s2" '.routeSync.peers[] | select(.subnet == $s) | .state == "ok"' "$LAB_DIR/status.json" >/dev/null ||
  fail "status --json does not show $s2 ok"
check "status --json matches the kernel after drift"

# hostgw check: WARNING (1) with recent drift and a conflict.
set +e
out=$(lab_hostgw_in "$ns" check)
code=$?
set -e
[ "$code" = 1 ] || [ "$code" = 2 ] || fail "check exited $code after drift, want 1 or 2: $out"
echo "$out" | grep -q '|' || fail "check printed no perfdata: $out"
check "check reports drift: exit $code: $out"
echo PASS
