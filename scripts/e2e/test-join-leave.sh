#!/usr/bin/env bash
# A node joins: its route appears on every node and on an external host running external-sync.
# The node leaves (`hostgw leave`): its route disappears everywhere.
source "$(dirname "$0")/common.sh"
e2e_lab
e2e_cluster 2
# shellcheck disable=SC2046
ip netns exec "$LAB-ext" "$HOSTGW_BIN" external-sync $(lab_store_flags) --listen 127.0.0.1:9447 \
>"$LAB_DIR/external-sync.log" 2>&1 &
echo "$! external-sync" >>"$LAB_DIR/pids"
lab_wait_for 20 ip netns exec "$LAB-ext" curl -fsS http://127.0.0.1:9447/readyz || fail "external-sync never became ready"
ext_routes() { ip -n "$LAB-ext" -j route show proto 77 | jq -r '.[] | "\(.dst) via \(.gateway)"' | sort; }
ext_expected() { for j in "$@"; do echo "$(node_subnet "$j") via $(lab_node_ip "$j")"; done | sort; }
ext_match() { [ "$(ext_routes)" = "$(ext_expected "$@")" ]; }
lab_wait_for 10 ext_match 1 2 || fail "external host routes [$(ext_routes | tr '\n' ';')]"
check "external host has routes to nodes 1 and 2"

lab_node_add 3
lab_agent_start 3
lab_wait_ready 3
for i in 1 2 3; do wait_routes_equal "$i" 3; done
lab_wait_for 10 ext_match 1 2 3 || fail "external host did not follow the join: [$(ext_routes | tr '\n' ';')]"
check "join: node 3's route is on every node and on the external host"

s3=$(node_subnet 3)
lease_of() { lab_hostgw_in "$(lab_node_ns 1)" leases --json | jq -r --arg s "$1" '.leases[] | select(.subnet == $s) | .subnet'; }
[ "$(lease_of "$s3")" = "$s3" ] || fail "hostgw leases does not list node 3's lease $s3"
lab_agent_stop 3
lab_hostgw_in "$(lab_node_ns 3)" leave --node-name node3 --state-dir "$LAB_DIR/n3/state" || fail "hostgw leave failed"
[ -z "$(ip -n "$(lab_node_ns 3)" route show proto 77)" ] || fail "leave left hostgw routes on node 3"
[ ! -e "$LAB_DIR/n3/state/lease.json" ] || fail "leave left lease.json in the --state-dir"
[ -z "$(lease_of "$s3")" ] || fail "leave left node 3's lease $s3 in the store"
for i in 1 2; do lab_wait_for 10 bash -c "! ip -n $(lab_node_ns "$i") route show proto 77 | grep -q '^$s3'" || fail "node $i still routes $s3"; done
lab_wait_for 10 ext_match 1 2 || fail "external host did not follow the leave: [$(ext_routes | tr '\n' ';')]"
check "leave: node 3's route is gone everywhere"
echo PASS
