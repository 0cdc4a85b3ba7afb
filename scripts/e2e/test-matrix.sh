#!/usr/bin/env bash
# Full pod-to-pod matrix across 3 nodes with no NAT: every pod's echo server reports the
# client pod's own address; every node holds exactly the expected routes.
source "$(dirname "$0")/common.sh"
e2e_lab
N=3
e2e_cluster $N
for i in $(seq 1 $N); do wait_routes_equal "$i" $N; done
check "each node holds exactly one route per other node"
for i in $(seq 1 $N); do lab_pod_add "$i" 1; lab_pod_add "$i" 2; done
for i in $(seq 1 $N); do for j in 1 2; do lab_echo_start "$(lab_pod_ns "$i" "$j")"; done; done
for si in $(seq 1 $N); do for sj in 1 2; do
  for di in $(seq 1 $N); do for dj in 1 2; do
    [ "$si$sj" = "$di$dj" ] && continue
    seen=$(lab_echo_ask "$(lab_pod_ns "$si" "$sj")" "$(lab_pod_ip "$di" "$dj")" || true)
    [ "$seen" = "$(lab_pod_ip "$si" "$sj")" ] ||
      fail "pod n${si}p$sj -> n${di}p$dj: server saw '${seen:-nothing}', expected $(lab_pod_ip "$si" "$sj")"
  done; done
done; done
check "30 pod pairs talk, each server saw the client pod's own address"
# No NAT anywhere: no nat-table rule was added in any node (hostgw never touches iptables).
for i in $(seq 1 $N); do
  if command -v iptables-save >/dev/null; then
    ! ip netns exec "$(lab_node_ns "$i")" iptables-save -t nat 2>/dev/null | grep -q MASQUERADE || fail "node $i has a MASQUERADE rule"
  fi
done
# /metrics is valid Prometheus exposition (promtool's linter), and `check` is OK on a settled node.
ip netns exec "$(lab_node_ns 1)" curl -fsS http://127.0.0.1:9447/metrics >"$LAB_DIR/metrics.txt"
promtool check metrics <"$LAB_DIR/metrics.txt" || fail "promtool check metrics failed"
check "promtool check metrics accepts /metrics"
set +e
out=$(lab_hostgw_in "$(lab_node_ns 1)" check --node-name node1)
code=$?
set -e
[ "$code" = 0 ] || fail "check exited $code on a healthy node: $out"
echo "$out" | grep -q '^HOSTGW OK - .*| peers_ok=2 ' || fail "unexpected check line: $out"
check "check: $out"
echo PASS
