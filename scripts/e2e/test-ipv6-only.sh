#!/usr/bin/env bash
# An IPv6-only network (EnableIPv4 false): the agents get no --iface and must find eth0 from
# the IPv6 default route, although each node also has a management interface mgmt0 with a global
# IPv6 address of its own and the IPv4 default route (the ways to pick the wrong interface). Every node then routes every peer's
# IPv6 subnet via its IPv6 address, installs no IPv4 route, and pods reach each other over IPv6.
source "$(dirname "$0")/common.sh"
export LAB_FAMILIES=v6 LAB_AGENT_IFACE=
e2e_lab
N=3
lab_switch_up
for i in $(seq 1 $N); do
  lab_node_add "$i"
  lab_node_mgmt_add "$i"
done
ip -n "$(lab_node_ns 1)" -4 route show default | grep -q 'dev mgmt0' || fail "the lab gave node 1 no IPv4 default route on mgmt0"
ip -n "$(lab_node_ns 1)" -6 addr show dev mgmt0 scope global | grep -q inet6 || fail "the lab gave node 1's mgmt0 no global IPv6 address"
e2e_agents_up $N
for i in $(seq 1 $N); do
  [ "$(ip netns exec "$(lab_node_ns "$i")" curl -fsS 127.0.0.1:9447/status | jq -r .interface)" = eth0 ] ||
    fail "node $i's agent picked '$(ip netns exec "$(lab_node_ns "$i")" curl -fsS 127.0.0.1:9447/status | jq -r .interface)', want eth0"
done
check "every agent picked eth0 (the IPv6 default route's interface) without --iface"

lab_hostgw_in "$(lab_node_ns 1)" leases --json >"$LAB_DIR/leases.json"
for i in $(seq 1 $N); do
  jq -e --arg n "node$i" --arg ip "$(lab_node_ip6 "$i")" \
    '[.leases[] | select(.node == $n)] | length == 1 and (.[0].publicIPv6 == $ip) and (.[0] | has("publicIP") | not)' "$LAB_DIR/leases.json" >/dev/null ||
    fail "node $i's lease does not carry only its IPv6 address: $(jq -c . "$LAB_DIR/leases.json")"
done
check "each lease carries the node's IPv6 address and no IPv4 one"

for i in $(seq 1 $N); do
  wait_routes_equal -6 "$i" $N
  [ -z "$(hostgw_routes "$i")" ] || fail "node $i has IPv4 hostgw routes on an IPv6-only network: $(hostgw_routes "$i")"
  ! grep -q '^FLANNEL_SUBNET=' "$LAB_DIR/n$i/subnet.env" || fail "node $i subnet.env has an IPv4 subnet"
done
check "each node routes every peer's IPv6 subnet via its IPv6 address, and nothing over IPv4"

for i in $(seq 1 $N); do
  lab_pod_add "$i" 1
  [ -z "$(lab_pod_ip "$i" 1)" ] || fail "pod on node $i got an IPv4 address on an IPv6-only network"
  lab_echo_start -6 "$(lab_pod_ns "$i" 1)"
done
for si in $(seq 1 $N); do for di in $(seq 1 $N); do
  [ "$si" = "$di" ] && continue
  seen=$(lab_echo_ask -6 "$(lab_pod_ns "$si" 1)" "$(lab_pod_ip6 "$di" 1)" || true)
  [ "$seen" = "$(lab_pod_ip6 "$si" 1)" ] ||
    fail "n${si}p1 -> n${di}p1 over IPv6: server saw '${seen:-nothing}', expected $(lab_pod_ip6 "$si" 1)"
done; done
check "$((N * (N - 1))) pod pairs reach each other over IPv6 with their own addresses"
echo PASS
