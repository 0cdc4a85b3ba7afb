#!/usr/bin/env bash
# Dual-stack: nodes with IPv4 and IPv6 addresses, EnableIPv6 in the network config. Every node
# routes every peer's IPv4 and IPv6 subnet via that peer's address of the same family; pods get
# one address of each family and reach each other over both (no NAT: each server sees the
# client pod's own address); an external host applies `routes --for-external` for both families.
source "$(dirname "$0")/common.sh"
export LAB_FAMILIES=dual
e2e_lab
N=3
e2e_cluster $N
for i in $(seq 1 $N); do
  wait_routes_equal "$i" $N
  wait_routes_equal -6 "$i" $N
done
check "each node routes every peer's IPv4 and IPv6 subnet via its address of that family"
for i in $(seq 1 $N); do
  grep -q '^FLANNEL_IPV6_SUBNET=fd10:244:' "$LAB_DIR/n$i/subnet.env" || fail "node $i subnet.env has no IPv6 subnet: $(cat "$LAB_DIR/n$i/subnet.env")"
done

for i in $(seq 1 $N); do
  lab_pod_add "$i" 1
  [ -n "$(lab_pod_ip "$i" 1)" ] && [ -n "$(lab_pod_ip6 "$i" 1)" ] || fail "pod on node $i lacks an address of each family"
  subnet6=$(node_subnet -6 "$i")
  [[ $(lab_pod_ip6 "$i" 1) == "${subnet6%::/*}:"* ]] || fail "pod IPv6 $(lab_pod_ip6 "$i" 1) is outside node $i's $subnet6"
  lab_echo_start "$(lab_pod_ns "$i" 1)"
  lab_echo_start -6 "$(lab_pod_ns "$i" 1)"
done
check "every pod has one IPv4 and one IPv6 address from its node's subnets"

for si in $(seq 1 $N); do for di in $(seq 1 $N); do
  [ "$si" = "$di" ] && continue
  from=$(lab_pod_ns "$si" 1)
  ip netns exec "$from" ping -6 -c1 -W2 -q "$(lab_pod_ip6 "$di" 1)" >/dev/null ||
    fail "pod n${si}p1 cannot ping n${di}p1 over IPv6 ($(lab_pod_ip6 "$di" 1))"
  seen=$(lab_echo_ask -6 "$from" "$(lab_pod_ip6 "$di" 1)" || true)
  [ "$seen" = "$(lab_pod_ip6 "$si" 1)" ] ||
    fail "IPv6 n${si}p1 -> n${di}p1: server saw '${seen:-nothing}', expected $(lab_pod_ip6 "$si" 1)"
  seen=$(lab_echo_ask "$from" "$(lab_pod_ip "$di" 1)" || true)
  [ "$seen" = "$(lab_pod_ip "$si" 1)" ] ||
    fail "IPv4 n${si}p1 -> n${di}p1: server saw '${seen:-nothing}', expected $(lab_pod_ip "$si" 1)"
done; done
check "$((N * (N - 1))) pod pairs reach each other over IPv6 and IPv4, each server seeing the client's own address"

# The external host: routes for both families from its own interface's addresses.
ip netns exec "$LAB-ext" "$HOSTGW_BIN" routes --for-external --format ip-batch --external-iface eth0 $(lab_store_flags) >"$LAB_DIR/ext.batch"
[ "$(grep -c '^route replace 10\.244\.' "$LAB_DIR/ext.batch")" = $N ] || fail "want $N IPv4 routes: $(cat "$LAB_DIR/ext.batch")"
[ "$(grep -c '^route replace fd10:244:' "$LAB_DIR/ext.batch")" = $N ] || fail "want $N IPv6 routes: $(cat "$LAB_DIR/ext.batch")"
ip -n "$LAB-ext" -batch "$LAB_DIR/ext.batch" || fail "ip -batch refused the output"
for i in $(seq 1 $N); do
  seen=$(lab_echo_ask -6 "$LAB-ext" "$(lab_pod_ip6 "$i" 1)" || true)
  [ "$seen" = "$LAB_EXT_IP6" ] || fail "pod on node $i saw '${seen:-nothing}' over IPv6, expected $LAB_EXT_IP6"
  seen=$(lab_echo_ask "$LAB-ext" "$(lab_pod_ip "$i" 1)" || true)
  [ "$seen" = "$LAB_EXT_IP" ] || fail "pod on node $i saw '${seen:-nothing}' over IPv4, expected $LAB_EXT_IP"
done
check "the external host applied $N IPv4 and $N IPv6 routes and reaches a pod on every node over both"
echo PASS
