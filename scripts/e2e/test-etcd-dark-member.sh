#!/usr/bin/env bash
# Issue 11 item 1: the etcd member an agent's watch reads from goes dark (its switch port down:
# no TCP reset, as after a power loss) while the other two keep quorum. A lease written through
# the survivors is routed on that agent within 10 s, and its status names the member it moved to.
source "$(dirname "$0")/common.sh"
e2e_lab
LAB_STORE=etcd3
N=2
e2e_cluster $N
for i in 1 2; do wait_routes_equal "$i" $N; done
status_json() { ip netns exec "$(lab_node_ns "$1")" curl -fsS http://127.0.0.1:9447/status; }
watched=$(status_json 1 | jq -r '.store.watchMember // empty')
[ -n "$watched" ] || fail "node 1's status names no watch member: $(status_json 1 | jq -c .store)"
member=$(lab_etcd_member_of "$watched")
check "node 1 watches $watched ($member)"
lab_etcd_port down "$member"
dark_at=$(date +%s)
check "switch port $member down: $member is dark"
# A third node joins: its lease is written through the surviving members.
lab_node_add 3
lab_agent_start 3
lab_wait_for 30 test -s "$LAB_DIR/n3/subnet.env" || fail "node 3 got no lease through the surviving members"
leased_at=$(date +%s)
key="/coreos.com/network/subnets/$(node_subnet 3 | tr / -)"
# The key is in etcd (asked through a survivor, from that member's own namespace).
for m in m1 m2 m3; do
  [ "$m" = "$member" ] && continue
  ip=$(ip -n "$LAB-$m" -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1)
  ip netns exec "$LAB-$m" env ETCDCTL_API=3 etcdctl --endpoints "http://$ip:2379" get "$key" --print-value-only | grep -q PublicIP ||
    fail "node 3's key $key is not in etcd on $m"
  break
done
check "node 3 leased $(node_subnet 3) $((leased_at - dark_at)) s after the member went dark; key in etcd"
lab_wait_for 10 sh -c "ip -n $(lab_node_ns 1) route show proto 77 | grep -q '^$(node_subnet 3) via $(lab_node_ip 3)'" ||
  fail "node 1 did not route node 3's lease within 10 s: [$(hostgw_routes 1 | tr '\n' ';')]"
check "node 1 routes $(node_subnet 3) via $(lab_node_ip 3) within $(($(date +%s) - leased_at)) s of the lease"
wait_routes_equal 2 3 10
now_member=$(status_json 1 | jq -r '.store.watchMember // empty')
[ -n "$now_member" ] && [ "$now_member" != "$watched" ] || fail "node 1's watch still names $now_member"
heard=$(status_json 1 | jq -r '.store.watchLastHeard // empty')
[ -n "$heard" ] || fail "node 1's status says nothing about when the watch last heard from $now_member"
age=$(($(date +%s) - $(date -d "$heard" +%s)))
((age <= 10)) || fail "node 1's watch last heard from $now_member $age s ago"
check "node 1's status: watch on $now_member, last heard $age s ago"
series=$(ip netns exec "$(lab_node_ns 1)" curl -fsS http://127.0.0.1:9447/metrics | grep '^hostgw_store_watch_member{' || true)
echo "$series" | grep "member=\"$now_member\"" | grep -Eq ' 1(\.0)?$' || fail "the metric does not name $now_member: $series"
echo "$series" | grep "member=\"$watched\"" | grep -Eq ' 0(\.0)?$' || fail "the metric still names $watched: $series"
check "metrics name the member the watch is on"
lab_etcd_port up "$member"
echo PASS
