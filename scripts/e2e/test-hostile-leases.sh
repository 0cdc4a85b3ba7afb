#!/usr/bin/env bash
# Hostile lease data written straight into etcd is never installed and is counted: bad JSON, a
# subnet overlapping a real lease, a gateway equal to the node itself, a subnet outside the network.
source "$(dirname "$0")/common.sh"
e2e_lab
LAB_STORE=etcd
N=2
e2e_cluster $N
wait_routes_equal 1 $N
put() { ip netns exec "$LAB-sw" etcdctl --endpoints http://127.0.0.1:2379 put "/coreos.com/network/subnets/$1" "$2" >/dev/null; }
s2=$(node_subnet 2)
put 10.244.200.0-24 '{"PublicIP": "10.77.0.50", "BackendType": "host-gw"'
put "${s2%/*}-25" '{"PublicIP": "10.77.0.51", "BackendType": "host-gw"}'
put 10.244.201.0-24 "{\"PublicIP\": \"$(lab_node_ip 1)\", \"BackendType\": \"host-gw\"}"
put 10.99.0.0-24 '{"PublicIP": "10.77.0.52", "BackendType": "host-gw"}'
sleep 2
wait_routes_equal 1 $N 5
# 10.244.201.0/24 names node 1's own address as its gateway: hostile for node 1 only (for node 2
# it is a lease like any other, routed via node 1).
for i in 1 2; do
  got=$(ip -n "$(lab_node_ns "$i")" route show proto 77 | grep -E '10\.244\.200\.|10\.99\.|/25' || true)
  [ -z "$got" ] || fail "node $i installed a hostile route: $got"
done
got=$(ip -n "$(lab_node_ns 1)" route show proto 77 | grep -E '10\.244\.201\.' || true)
[ -z "$got" ] || fail "node 1 installed a route via itself: $got"
check "no hostile lease became a route"
invalid=$(metric_sum 1 hostgw_store_invalid_entries_total)
bad=$(ip netns exec "$(lab_node_ns 1)" curl -fsS 127.0.0.1:9447/status | jq '[.routeSync.peers[] | select(.state == "invalid-lease")] | length')
total=$((invalid + bad))
[ "$total" -ge 4 ] || fail "hostile entries counted: $invalid skipped + $bad invalid-lease peers, want >= 4"
check "hostile entries counted ($invalid skipped by the store reader, $bad invalid-lease peers)"
echo PASS
