#!/usr/bin/env bash
# A node follows its own key through the watch (issue 11, item 2): deleted, it is back (same key,
# same subnet, this node's value, a TTL) within 5 s; overwritten by an operator with another
# PublicIP, this node's value is back within 5 s. The agent keeps running, the peer routes it
# right again, and both repairs are counted.
source "$(dirname "$0")/common.sh"
e2e_lab
LAB_STORE=etcd
N=2
e2e_cluster $N
for i in 1 2; do wait_routes_equal "$i" $N; done
key="/coreos.com/network/subnets/$(node_subnet 1 | tr / -)"
etcd() { ip netns exec "$LAB-sw" etcdctl --endpoints http://127.0.0.1:2379 "$@"; }
value() { etcd get --print-value-only "$key"; }
# own_value: the key holds node 1's own value (its IP, its holder) on an etcd lease (a TTL).
holder=$(value | jq -r .Holder.ID)
[ -n "$holder" ] && [ "$holder" != null ] || fail "the lease records no holder: $(value)"
own_value() {
  [ "$(value | jq -r '.PublicIP + " " + .Holder.ID')" = "$(lab_node_ip 1) $holder" ] &&
    [ "$(etcd get "$key" -w json | jq -r '.kvs[0].lease // 0')" != 0 ]
}
pid=$(lab_agent_pid 1)

etcd del "$key" | grep -q 1 || fail "could not delete $key"
lab_wait_for 5 own_value || fail "node 1's key was not back within 5 s of its deletion: [$(value)]"
wait_routes_equal 2 $N
check "deleted: the same key is back with node 1's value and a TTL, node 2 routes it"

etcd put "$key" '{"PublicIP":"10.77.0.99","BackendType":"host-gw"}' | grep -q OK || fail "could not overwrite $key"
lab_wait_for 5 own_value || fail "node 1's value was not restored within 5 s of the overwrite: [$(value)]"
wait_routes_equal 2 $N
check "overwritten with another PublicIP: node 1's value is back, node 2 routes it via node 1"

kill -0 "$pid" 2>/dev/null || fail "the agent exited instead of repairing its lease"
[ "$(node_subnet 1)" = "$(echo "$key" | sed 's|.*/||; s|-|/|')" ] || fail "node 1 moved to another subnet"
[ "$(metric 1 'hostgw_lease_repairs_total{kind="recreated"}')" = 1 ] || fail "recreation not counted"
[ "$(metric 1 'hostgw_lease_repairs_total{kind="restored"}')" = 1 ] || fail "restore not counted"
lab_hostgw_in "$(lab_node_ns 1)" status --json --node-name node1 >"$LAB_DIR/status.json"
jq -e '.lease.repairs.recreated == 1 and .lease.repairs.restored == 1 and .lease.lastRepair.kind == "restored"' "$LAB_DIR/status.json" >/dev/null ||
  fail "status does not show the repairs: $(jq -c .lease "$LAB_DIR/status.json")"
check "agent still running on the same subnet; both repairs in metrics and status"
echo PASS
