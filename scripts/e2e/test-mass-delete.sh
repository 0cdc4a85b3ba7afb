#!/usr/bin/env bash
# One wrong `etcdctl del --prefix` must not take the pod network down (issue 11, item 5). Three
# nodes, pods pinging across: every lease deleted at once loses no pod traffic over 30 s (each
# agent holds the mass deletion of its peer routes while every node re-leases its own subnet),
# and every node is leased and meshed again within 30 s. A single node's real departure (`hostgw
# leave`) still removes its route at once, far inside the hold's grace.
source "$(dirname "$0")/common.sh"
e2e_lab
LAB_STORE=etcd
N=3
e2e_cluster $N --deletion-grace 60s
for i in 1 2 3; do wait_routes_equal "$i" $N; done
for i in 1 2 3; do lab_pod_add "$i" 1; done
etcd() { ip netns exec "$LAB-sw" etcdctl --endpoints http://127.0.0.1:2379 "$@"; }
keys() { etcd get --prefix /coreos.com/network/subnets/ --keys-only | sed '/^$/d' | sort; }
want_keys=$(for i in 1 2 3; do echo "/coreos.com/network/subnets/$(node_subnet "$i" | tr / -)"; done | sort)
[ "$(keys)" = "$want_keys" ] || fail "leases before the fault: [$(keys | tr '\n' ' ')]"

pings=()
for pair in "1 2" "2 3" "3 1"; do
  set -- $pair
  ip netns exec "$(lab_pod_ns "$1" 1)" ping -i 0.2 -c 150 -W 1 "$(lab_pod_ip "$2" 1)" >"$LAB_DIR/ping-$1-$2.log" 2>&1 &
  pings+=("$!")
done
sleep 3
etcd del --prefix /coreos.com/network/subnets/ >/dev/null || fail "etcdctl del --prefix failed"
start=$(date +%s)
all_back() { [ "$(keys)" = "$want_keys" ] && routes_match 1 $N && routes_match 2 $N && routes_match 3 $N; }
lab_wait_for 30 all_back || fail "not leased and meshed again within 30 s: keys [$(keys | tr '\n' ' ')], node 1 routes [$(hostgw_routes 1 | tr '\n' ';')]"
check "every node re-leased its own subnet and all are meshed again ($(($(date +%s) - start)) s after the delete)"
for p in "${pings[@]}"; do wait "$p" || true; done
for pair in "1-2" "2-3" "3-1"; do
  grep -q ' 0% packet loss' "$LAB_DIR/ping-$pair.log" || fail "pod traffic $pair lost packets: $(grep -m1 'packet loss' "$LAB_DIR/ping-$pair.log")"
done
holds=0
for i in 1 2 3; do holds=$((holds + $(metric "$i" hostgw_route_deletion_holds_total))); done
((holds >= 1)) || fail "no agent held the mass deletion (hostgw_route_deletion_holds_total is 0 everywhere)"
for i in 1 2 3; do
  [ "$(metric "$i" 'hostgw_lease_repairs_total{kind="recreated"}')" = 1 ] || fail "node $i did not re-create its lease exactly once"
done
check "30 s of pod pings across 3 nodes: 0% loss; $holds agent(s) held the deletion; each node re-created its lease"

# A real departure of one node is not a mass deletion: its route goes at once (grace is 60 s).
s3=$(node_subnet 3)
lab_agent_stop 3
lab_hostgw_in "$(lab_node_ns 3)" leave --node-name node3 --state-dir "$LAB_DIR/n3/state" >/dev/null || fail "hostgw leave failed"
for i in 1 2; do
  lab_wait_for 10 bash -c "! ip -n $(lab_node_ns "$i") route show proto 77 | grep -q '^${s3%/*}'" ||
    fail "node $i still routes $s3 10 s after node 3 left (held?)"
done
check "node 3 left: its route is gone from nodes 1 and 2 at once, not held"
echo PASS
