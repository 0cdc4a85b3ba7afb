#!/usr/bin/env bash
# A host outside the cluster applies `hostgw routes --for-external --format ip-batch`, reaches a
# pod on every node, and each pod sees the external host's own address (no NAT).
source "$(dirname "$0")/common.sh"
e2e_lab
N=3
e2e_cluster $N
for i in $(seq 1 $N); do lab_pod_add "$i" 1; done
lab_hostgw_in "$(lab_node_ns 1)" routes --for-external --format ip-batch --external-ip "$LAB_EXT_IP/24" >"$LAB_DIR/ext.batch"
[ "$(grep -c '^route replace' "$LAB_DIR/ext.batch")" = $N ] || fail "expected $N routes in the ip-batch output: $(cat "$LAB_DIR/ext.batch")"
ip -n "$LAB-ext" -batch "$LAB_DIR/ext.batch" || fail "ip -batch refused the output"
check "external host applied $N routes from the ip-batch output"
for i in $(seq 1 $N); do
  lab_echo_start "$(lab_pod_ns "$i" 1)"
  seen=$(lab_echo_ask "$LAB-ext" "$(lab_pod_ip "$i" 1)" || true)
  [ "$seen" = "$LAB_EXT_IP" ] || fail "pod on node $i saw '${seen:-nothing}', expected the external host's $LAB_EXT_IP"
done
check "a pod on every node answered and saw the external host's own address"
# Idempotent: applying again changes nothing and fails nothing.
before=$(ip -n "$LAB-ext" route show proto 77)
ip -n "$LAB-ext" -batch "$LAB_DIR/ext.batch" || fail "second apply failed"
[ "$(ip -n "$LAB-ext" route show proto 77)" = "$before" ] || fail "second apply changed the routes"
# A node off the external host's segment is left out, with a warning on stderr.
set +e
out=$(lab_hostgw_in "$(lab_node_ns 1)" routes --for-external --format ip --external-ip 192.168.99.5/24 2>"$LAB_DIR/warn.txt")
set -e
[ "$(echo "$out" | grep -c 'ip route replace')" = 0 ] || fail "routes via off-link nodes were printed: $out"
[ -s "$LAB_DIR/warn.txt" ] || fail "no warning for nodes not on-link"
check "nodes not on-link from the external host are left out with a warning"
echo PASS
