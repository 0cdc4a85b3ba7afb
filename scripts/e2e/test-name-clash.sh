#!/usr/bin/env bash
# Two machines with one node name (issue 11, item 3): a second agent started with node 1's
# --node-name on another IP never takes over node 1's lease; as docs/operations.md says, it leases
# a subnet of its own, and both show the clash. Node 1 restarting keeps its subnet. A node that
# only changed its IP (same state dir: same holder) keeps its lease and updates its PublicIP.
source "$(dirname "$0")/common.sh"
e2e_lab
LAB_STORE=etcd
e2e_cluster 2
for i in 1 2; do wait_routes_equal "$i" 2; done
etcd() { ip netns exec "$LAB-sw" etcdctl --endpoints http://127.0.0.1:2379 "$@"; }
key1="/coreos.com/network/subnets/$(node_subnet 1 | tr / -)"
before=$(etcd get "$key1" -w json | jq -c '.kvs[0] | {value, mod_revision, lease}')
pid1=$(lab_agent_pid 1)

# The clone: a third machine on 10.77.0.13 calling itself node1, with its own state dir.
lab_node_add 3
LAB_NODE_NAME=node1 lab_agent_start 3
lab_wait_ready 3
s1=$(node_subnet 1)
s3=$(node_subnet 3)
[ "$s3" != "$s1" ] || fail "the second machine got node 1's subnet $s1"
after=$(etcd get "$key1" -w json | jq -c '.kvs[0] | {value, mod_revision, lease}')
[ "$after" = "$before" ] || fail "node 1's lease was touched: before $before after $after"
etcd get --prefix /coreos.com/network/subnets/ --print-value-only |
  jq -se --arg ip "$(lab_node_ip 3)" '[.[] | select(.NodeName == "node1" and .PublicIP == $ip)] | length == 1' >/dev/null ||
  fail "no lease of the second machine under node1 in etcd"
kill -0 "$pid1" 2>/dev/null || fail "node 1's agent stopped"
lab_wait_for 10 bash -c "[ \"\$(ip -n $(lab_node_ns 2) -j route show proto 77 | jq -r '.[] | \"\(.dst) via \(.gateway)\"' | sort | tr '\n' ';')\" = \"$(printf '%s\n' "$s1 via $(lab_node_ip 1)" "$s3 via $(lab_node_ip 3)" | sort | tr '\n' ';')\" ]" ||
  fail "node 2 does not route both machines: [$(hostgw_routes 2 | tr '\n' ';')]"
check "second machine named node1 leased its own subnet $s3; node 1 keeps $s1 untouched; node 2 routes both"

ip netns exec "$(lab_node_ns 3)" curl -fsS http://127.0.0.1:9447/status >"$LAB_DIR/clash.json"
jq -e --arg ip "$(lab_node_ip 1)" '.lease.nameClashes | length == 1 and (.[0] | contains($ip))' "$LAB_DIR/clash.json" >/dev/null ||
  fail "the second machine's status does not name the other node1 and its IP: $(jq -c .lease "$LAB_DIR/clash.json")"
lab_wait_for 10 bash -c "ip netns exec $(lab_node_ns 1) curl -fsS http://127.0.0.1:9447/status | jq -e --arg ip $(lab_node_ip 3) '.lease.nameClashes | length == 1 and (.[0] | contains(\$ip))'" ||
  fail "node 1's status does not show the clash"
check "both agents show the clash in status, naming the other machine's IP"

lab_agent_stop 1
lab_agent_start 1
lab_wait_ready 1
[ "$(node_subnet 1)" = "$s1" ] || fail "node 1 restarted on $(node_subnet 1), not its own $s1"
check "node 1 restarting keeps $s1"

# Same machine, new IP: node 2 moves from .12 to .22 (state dir kept).
s2=$(node_subnet 2)
key2="/coreos.com/network/subnets/$(echo "$s2" | tr / -)"
lab_agent_stop 2
ns2=$(lab_node_ns 2)
ip -n "$ns2" addr flush dev eth0
ip -n "$ns2" addr add 10.77.0.22/24 dev eth0
lab_agent_start 2
lab_wait_ready 2
[ "$(node_subnet 2)" = "$s2" ] || fail "node 2 changed subnet after an IP change"
[ "$(etcd get --print-value-only "$key2" | jq -r .PublicIP)" = 10.77.0.22 ] || fail "node 2's PublicIP not updated: $(etcd get --print-value-only "$key2")"
check "node 2 on a new IP keeps $s2 and its lease names 10.77.0.22"
echo PASS
