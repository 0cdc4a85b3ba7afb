#!/usr/bin/env bash
# Moving from flanneld without a gap: two nodes whose routes to each other are flannel's
# (`proto boot`, same destination, gateway and device as hostgw's), pods pinging across. hostgw
# starts with --adopt-protocol boot: every route ends `proto hostgw`, each replaced in place
# (adopted and counted, never deleted), and not one ping is lost.
source "$(dirname "$0")/common.sh"
e2e_lab
N=2
# The leases flanneld would have left in the store, and pods on them: from a first hostgw run.
e2e_cluster $N
for i in $(seq 1 $N); do wait_routes_equal "$i" $N; lab_pod_add "$i" 1; done
for i in $(seq 1 $N); do lab_agent_stop "$i"; done

# Turn every route into flanneld's: replace keeps the route, only the protocol changes.
for i in $(seq 1 $N); do
  ns=$(lab_node_ns "$i")
  hostgw_routes "$i" | while read -r dst _ gw; do ip -n "$ns" route replace "$dst" via "$gw" dev eth0 proto boot; done
  [ -z "$(hostgw_routes "$i")" ] || fail "node $i still has hostgw routes"
done
flannel_routes() { ip -n "$(lab_node_ns "$1")" -j route show proto boot | jq -r '.[] | select(.dst | startswith("10.244.")) | "\(.dst) via \(.gateway)"' | sort; }
for i in $(seq 1 $N); do
  [ "$(flannel_routes "$i")" = "$(expected_routes "$i" $N)" ] || fail "node $i flannel routes: $(flannel_routes "$i")"
done
p1=$(lab_pod_ns 1 1)
p2=$(lab_pod_ns 2 1)
ip netns exec "$p1" ping -c1 -W2 -q "$(lab_pod_ip 2 1)" >/dev/null || fail "pods do not reach each other over flannel's routes"
check "flanneld's state: proto boot routes between the nodes, pods reach each other"

# Pings both ways every 20 ms through the whole switch-over (about 30 s each).
COUNT=1500
ip netns exec "$p1" ping -i 0.02 -W 1 -c $COUNT "$(lab_pod_ip 2 1)" >"$LAB_DIR/ping-1to2.txt" 2>&1 &
ping12=$!
ip netns exec "$p2" ping -i 0.02 -W 1 -c $COUNT "$(lab_pod_ip 1 1)" >"$LAB_DIR/ping-2to1.txt" 2>&1 &
ping21=$!
echo "$ping12 ping" >>"$LAB_DIR/pids"
echo "$ping21 ping" >>"$LAB_DIR/pids"
sleep 2

for i in $(seq 1 $N); do lab_agent_start "$i" --adopt-protocol boot; done
for i in $(seq 1 $N); do lab_wait_ready "$i"; done
for i in $(seq 1 $N); do
  wait_routes_equal "$i" $N
  [ -z "$(flannel_routes "$i")" ] || fail "node $i still has flannel routes: $(flannel_routes "$i")"
done
kill -0 "$ping12" && kill -0 "$ping21" || fail "the pings ended before the switch-over did: they would prove nothing (raise COUNT)"
check "every route is proto hostgw now, none proto boot (pings still running)"

metric_is() { awk -v a="$(metric "$1" "$2")" -v b="$3" "BEGIN { exit !(a + 0 == b + 0) }"; }
for i in $(seq 1 $N); do
  lab_wait_for 5 metric_is "$i" 'hostgw_routes_adopted_total{protocol="boot"}' $((N - 1)) ||
    fail "node $i counted $(metric "$i" 'hostgw_routes_adopted_total{protocol="boot"}') adoptions, want $((N - 1))"
  metric_is "$i" 'hostgw_route_changes_total{op="delete"}' 0 || fail "node $i deleted a route"
  metric_is "$i" 'hostgw_route_changes_total{op="add"}' 0 || fail "node $i added a route (delete + add, not replace)"
  metric_is "$i" 'hostgw_peers{state="conflict"}' 0 || fail "node $i reports a conflict"
  metric_is "$i" 'hostgw_drift_events_total{kind="conflict"}' 0 || fail "node $i counted a conflict"
done
check "each node adopted its $((N - 1)) route(s) by one replace: adopted counted, no add, no delete, no conflict"

wait "$ping12" || true
wait "$ping21" || true
for f in ping-1to2 ping-2to1; do
  line=$(grep 'packets transmitted' "$LAB_DIR/$f.txt" || true)
  [[ $line == "$COUNT packets transmitted, $COUNT received"* ]] || fail "$f lost pings: ${line:-$(tail -3 "$LAB_DIR/$f.txt")}"
done
check "no ping lost: $COUNT/$COUNT each way through the switch-over"

# A foreign route that differs (another gateway) is not adopted: it stays a conflict.
ns=$(lab_node_ns 1)
s2=$(node_subnet 2)
lab_agent_stop 1
ip -n "$ns" route del "$s2"
ip -n "$ns" route add "$s2" via "$LAB_STORE_IP" dev eth0 proto boot
lab_agent_start 1 --adopt-protocol boot
lab_wait_ready 1
conflicts_are() { metric_is 1 'hostgw_peers{state="conflict"}' "$1"; }
lab_wait_for 10 conflicts_are 1 || fail "node 1 does not report the differing flannel route as a conflict"
ip -n "$ns" route show "$s2" proto boot | grep -q "via $LAB_STORE_IP" || fail "the differing foreign route was touched"
[ -z "$(hostgw_routes 1)" ] || fail "hostgw installed a route over the conflict: $(hostgw_routes 1)"
check "a proto boot route with another gateway stays a conflict, untouched"
echo PASS
