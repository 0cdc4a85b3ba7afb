#!/usr/bin/env bash
# etcd stopped for 60 s: pods keep talking, status is degraded, /healthz fails past the grace
# period; after etcd returns, health recovers and a new lease propagates.
source "$(dirname "$0")/common.sh"
e2e_lab
LAB_STORE=etcd
N=2
e2e_cluster $N --health-grace 10s
wait_routes_equal 1 $N
lab_pod_add 1 1
lab_pod_add 2 1
etcd_pid=$(awk '$2 == "etcd" {print $1}' "$LAB_DIR/pids")
kill -STOP "$etcd_pid"
start=$(date +%s)
ip netns exec "$(lab_pod_ns 1 1)" ping -i 0.5 -c 110 -W 1 "$(lab_pod_ip 2 1)" >"$LAB_DIR/ping.log" 2>&1 &
ping_pid=$!
health() { ip netns exec "$(lab_node_ns 1)" curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9447/healthz; }
health_is() { [ "$(health)" = "$1" ]; }
lab_wait_for 40 health_is 503 || fail "/healthz stayed $(health) with etcd stopped"
check "/healthz failed $(($(date +%s) - start))s into the outage"
lab_hostgw_in "$(lab_node_ns 1)" status --json >"$LAB_DIR/status.json" || true
jq -e '.store.reachable == false' "$LAB_DIR/status.json" >/dev/null || fail "status does not show the store unreachable"
check "status shows the store unreachable"
set +e
out=$(lab_hostgw_in "$(lab_node_ns 1)" check)
code=$?
set -e
[ "$code" = 2 ] || fail "check exited $code with the store down, want 2 (CRITICAL): $out"
check "check is CRITICAL with the store down: $out"
sleep $((60 - ($(date +%s) - start)))
kill -CONT "$etcd_pid"
wait "$ping_pid" || true
grep -q ' 0% packet loss' "$LAB_DIR/ping.log" || fail "pods lost packets during the outage: $(grep -m1 'packet loss' "$LAB_DIR/ping.log")"
check "pods kept talking through 60 s without etcd"
lab_wait_for 30 health_is 200 || fail "/healthz did not recover: $(health)"
check "/healthz recovered"
lab_node_add 3
lab_agent_start 3
lab_wait_ready 3
for i in 1 2 3; do wait_routes_equal "$i" 3; done
check "a new node joins after the outage"
echo PASS
