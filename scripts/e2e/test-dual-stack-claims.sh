#!/usr/bin/env bash
# Issue 11 item 6: ten dual-stack agents start at once on an IPv6 pool of only 16 subnets. The
# atomic create is on the combined key, so only the post-write claim check keeps two nodes off
# one IPv6 subnet: every node ends up leased, and no two keys in etcd share a subnet of either
# family.
source "$(dirname "$0")/common.sh"
e2e_lab
LAB_STORE=etcd
N=10
LAB_FAMILIES=dual
LAB_POD_NET6=fd10:244::/60
lab_switch_up
for i in $(seq 1 $N); do lab_node_add "$i"; done
lab_store_up
for i in $(seq 1 $N); do lab_agent_start "$i"; done
for i in $(seq 1 $N); do lab_wait_ready "$i" 120; done
check "$N dual-stack agents ready"
keys=$(lab_etcdctl get /coreos.com/network/subnets/ --prefix --keys-only | sed -n 's|^/coreos.com/network/subnets/||p')
count=$(echo "$keys" | grep -c .)
[ "$count" = $N ] || fail "etcd holds $count lease keys, want $N: $keys"
v4=$(echo "$keys" | cut -d'&' -f1 | sort)
v6=$(echo "$keys" | cut -d'&' -f2 | sort)
[ "$(echo "$v6" | grep -c ':')" = $N ] || fail "not every key holds an IPv6 subnet: $keys"
dup4=$(echo "$v4" | uniq -d)
dup6=$(echo "$v6" | uniq -d)
[ -z "$dup4" ] || fail "two leases hold IPv4 subnet(s) $dup4"
[ -z "$dup6" ] || fail "two leases hold IPv6 subnet(s) $dup6"
check "$N keys in etcd, no IPv4 or IPv6 subnet held twice"
# Every node was told a distinct pair (its subnet.env), the same the store holds.
told6=$(for i in $(seq 1 $N); do sed -n 's/^FLANNEL_IPV6_SUBNET=//p' "$LAB_DIR/n$i/subnet.env"; done | sort)
[ -z "$(echo "$told6" | uniq -d)" ] || fail "two nodes were told one IPv6 subnet: $(echo "$told6" | uniq -d)"
for i in $(seq 1 $N); do wait_routes_equal "$i" $N 30; done
check "every node routes the other $((N - 1)) nodes' IPv4 subnets"
echo PASS
