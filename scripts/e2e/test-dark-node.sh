#!/usr/bin/env bash
# A node goes dark on the node network while its agent still renews its lease (issue 13): the
# switch drops every frame to and from node 3 (an nft bridge rule in the switch namespace: the
# link keeps its carrier, nothing is reset). The store is the shared embedded file, so node 3
# keeps renewing and every route stays as it was. Within 10 s nodes 1 and 2 mark node 3
# unreachable (status REACH, `hostgw check` WARNING naming node3, hostgw_peers_unreachable) and
# node 3, reaching no peer, is CRITICAL with /healthz 503; no route changes anywhere. Frames
# flow again: everything clears within 10 s. Then the same with 100% loss on node 3's own link
# (issue 13's `tc netem loss 100%` on node 3's eth0; where the kernel has no sch_netem, as here,
# an nft netdev table in node 3's namespace drops every frame in and out of its eth0: the same
# loss at the same place, said which in the check line).
source "$(dirname "$0")/common.sh"
e2e_lab
N=3
e2e_cluster $N
for i in $(seq 1 $N); do wait_routes_equal "$i" $N; done
ns=$(lab_node_ns 1)
ns3=$(lab_node_ns 3)

reach_of() { # reach_of I NODE: node I's REACH cell for NODE's IPv4 route
  lab_hostgw_in "$(lab_node_ns "$1")" status --node-name "node$1" --json |
    jq -r --arg n "$2" '[.routeSync.peers[] | select(.node == $n) | .reachability.state // "none"][0]'
}
reach_is() { [ "$(reach_of "$1" "$2")" = "$3" ]; }
check3() { lab_hostgw_in "$ns3" check --node-name node3 || true; }
check3_is() { local rc=0 out; out=$(lab_hostgw_in "$ns3" check --node-name node3) || rc=$?; [ "$rc" = "$1" ] && [[ $out == *"$2"* ]]; }
healthz3() { ip netns exec "$ns3" curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9447/healthz; }
all_routes() { for i in $(seq 1 $N); do echo "n$i: $(hostgw_routes "$i" | tr '\n' ';')"; done; }

for i in 1 2; do
  for j in $(seq 1 $N); do
    [ "$i" = "$j" ] && continue
    lab_wait_for 10 reach_is "$i" "node$j" reachable || fail "node $i does not see node$j reachable: $(reach_of "$i" "node$j")"
  done
done
check_is 0 "HOSTGW OK" || fail "node 1 is not OK on a healthy cluster: $(check_line)"
[ "$(metric 1 'hostgw_peers_unreachable{path="node"}' | awk '{print $1 + 0}')" = 0 ] || fail "node 1 counts unreachable peers on a healthy cluster"
routes_before=$(all_routes)
check "healthy: every peer reachable from nodes 1 and 2, check OK, hostgw_peers_unreachable 0"

expect_node3_cut_off() { # expect_node3_cut_off WHAT
  lab_wait_for 10 reach_is 1 node3 unreachable || fail "node 1 does not mark node3 unreachable within 10 s: $(reach_of 1 node3)"
  lab_wait_for 10 reach_is 2 node3 unreachable || fail "node 2 does not mark node3 unreachable within 10 s: $(reach_of 2 node3)"
  reach_is 1 node2 reachable || fail "node 1 lost node2 too: $(reach_of 1 node2)"
  lab_wait_for 5 check_is 1 "1 peer(s) unreachable (node3 (" || fail "node 1's check is not WARNING naming node3: $(check_line)"
  [ "$(metric 1 'hostgw_peers_unreachable{path="node"}' | awk '{print $1 + 0}')" = 1 ] || fail "hostgw_peers_unreachable{path=node} on node 1 is $(metric 1 'hostgw_peers_unreachable{path="node"}')"
  lab_hostgw_in "$ns" status --node-name node1 | grep -qE '^node3 .* UNREACHABLE ' || fail "node 1's status table does not say UNREACHABLE for node3"
  lab_hostgw_in "$ns" status --node-name node1 --cluster | grep -qE '^node3 .*UNREACHABLE' || fail "status --cluster on node 1 does not show node3 UNREACHABLE"
  healthz_is 200 || fail "node 1's /healthz answers $(healthz): one dark peer is the peer's problem"
  lab_wait_for 10 check3_is 2 "none of the 2 peer(s) is reachable" || fail "node 3's check is not CRITICAL isolated: $(check3)"
  [ "$(healthz3)" = 503 ] || fail "node 3's /healthz answers $(healthz3) while it reaches no peer"
  [ "$(metric 3 hostgw_node_isolated | awk '{print $1 + 0}')" = 1 ] || fail "hostgw_node_isolated on node 3 is $(metric 3 hostgw_node_isolated)"
  [ "$(all_routes)" = "$routes_before" ] || fail "routes changed while node 3 was dark: $(all_routes) (were $routes_before)"
  check "$1: within 10 s nodes 1 and 2 mark node 3 unreachable (check WARNING, status, --cluster, metric 1, /healthz 200), node 3 CRITICAL isolated with /healthz 503; no route changed"
}

expect_node3_back() { # expect_node3_back WHAT
  lab_wait_for 10 reach_is 1 node3 reachable || fail "node 1 does not see node3 reachable again within 10 s: $(reach_of 1 node3)"
  lab_wait_for 10 check_is 0 "HOSTGW OK" || fail "node 1's check not OK after node 3 came back: $(check_line)"
  lab_wait_for 10 check3_is 0 "HOSTGW OK" || fail "node 3's check not OK after it came back: $(check3)"
  [ "$(healthz3)" = 200 ] || fail "node 3's /healthz answers $(healthz3) after it came back"
  [ "$(all_routes)" = "$routes_before" ] || fail "routes changed: $(all_routes)"
  for i in $(seq 1 $N); do [ "$(metric_sum "$i" hostgw_drift_events_total)" = 0 ] || fail "node $i counted drift"; done
  check "$1: reachable, checks OK and /healthz 200 within 10 s; no route changed, no drift"
}

# --- node 3 goes dark ----------------------------------------------------------------------------
ip netns exec "$LAB-sw" nft "add table bridge hgwdark"
ip netns exec "$LAB-sw" nft "add chain bridge hgwdark darken { type filter hook forward priority 0 ; }"
ip netns exec "$LAB-sw" nft "add rule bridge hgwdark darken iifname n3 drop"
ip netns exec "$LAB-sw" nft "add rule bridge hgwdark darken oifname n3 drop"
expect_node3_cut_off "node 3 dark at the switch"

# --- back ----------------------------------------------------------------------------------------
ip netns exec "$LAB-sw" nft "delete table bridge hgwdark"
expect_node3_back "switch port back"

# --- 100% loss on node 3's own link -------------------------------------------------------------
if ip netns exec "$ns3" tc qdisc add dev eth0 root netem loss 100% 2>/dev/null; then
  loss="tc netem loss 100% on node 3's eth0"
  unloss() { ip netns exec "$ns3" tc qdisc del dev eth0 root; }
else
  loss="100% loss on node 3's eth0 (nft netdev ingress and egress drop; this kernel has no sch_netem)"
  ip netns exec "$ns3" nft "add table netdev hgwloss"
  ip netns exec "$ns3" nft "add chain netdev hgwloss in { type filter hook ingress device eth0 priority 0 ; policy drop ; }"
  ip netns exec "$ns3" nft "add chain netdev hgwloss out { type filter hook egress device eth0 priority 0 ; policy drop ; }"
  unloss() { ip netns exec "$ns3" nft "delete table netdev hgwloss"; }
fi
expect_node3_cut_off "$loss"
unloss
expect_node3_back "loss removed"
echo PASS
