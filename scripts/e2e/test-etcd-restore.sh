#!/usr/bin/env bash
# Issue 11 item 4: etcd restored from an older snapshot (`etcdctl snapshot restore`, which in
# etcd 3.4 can not bump the revision) while agents run. Their watches would resume at a revision
# the store has not reached and wait silently; instead they list again, and a lease written
# after the restore is routed within 15 s.
source "$(dirname "$0")/common.sh"
e2e_lab
LAB_STORE=etcd
N=2
e2e_cluster $N
for i in 1 2; do wait_routes_equal "$i" $N; done
lab_etcdctl snapshot save "$LAB_DIR/snap.db" >/dev/null || fail "etcdctl snapshot save failed"
snap_rev=$(lab_etcdctl get / --prefix -w json | jq -r '.header.revision')
check "snapshot saved at revision $snap_rev"
# Move the store well past the snapshot: a third node, and writes the agents never watch.
lab_node_add 3
lab_agent_start 3
lab_wait_ready 3
for i in 1 2 3; do wait_routes_equal "$i" 3; done
for k in $(seq 1 30); do lab_etcdctl put "/e2e/filler/$k" "$k" >/dev/null; done
seen_rev=$(lab_etcdctl get / --prefix -w json | jq -r '.header.revision')
check "store at revision $seen_rev, every node routed"
# Node 3 keeps running: its lease is not in the snapshot, so it must create it again (item 2).
key3="/coreos.com/network/subnets/$(node_subnet 3 | tr / -)"
lab_etcd_single_stop
rm -rf "$LAB_DIR/etcd-restored"
ip netns exec "$LAB-sw" env ETCDCTL_API=3 etcdctl snapshot restore "$LAB_DIR/snap.db" --data-dir "$LAB_DIR/etcd-restored" \
  --name lab --initial-cluster "lab=http://127.0.0.1:2380" --initial-advertise-peer-urls "http://127.0.0.1:2380" \
  >"$LAB_DIR/restore.log" 2>&1 || fail "snapshot restore failed: $(tail -3 "$LAB_DIR/restore.log")"
lab_etcd_single_start "$LAB_DIR/etcd-restored"
restored_rev=$(lab_etcdctl get / --prefix -w json | jq -r '.header.revision')
((restored_rev < seen_rev)) || fail "the restored store is at $restored_rev, not below $seen_rev"
check "etcd restored from the snapshot: revision $restored_rev < $seen_rev"
# A new node leases after the restore: its key gets a revision the agents have seen before.
lab_node_add 4
lab_agent_start 4
lab_wait_for 30 test -s "$LAB_DIR/n4/subnet.env" || fail "node 4 got no lease after the restore"
leased_at=$(date +%s)
key="/coreos.com/network/subnets/$(node_subnet 4 | tr / -)"
lease_rev=$(lab_etcdctl get "$key" -w json | jq -r '.kvs[0].mod_revision')
[ -n "$lease_rev" ] && [ "$lease_rev" != null ] || fail "node 4's key $key is not in etcd"
check "node 4's lease $key written at revision $lease_rev (agents had seen $seen_rev)"
for i in 1 2; do
  lab_wait_for 15 routes_node "$i" 4 ||
    fail "node $i did not route node 4's lease within 15 s: [$(hostgw_routes "$i" | tr '\n' ';')]"
done
check "nodes 1 and 2 route node 4 within $(($(date +%s) - leased_at)) s of its lease"
for i in 1 2; do
  [ "$(metric_sum "$i" hostgw_lease_relists_total)" -ge 1 ] || fail "node $i counted no re-list"
  kill -0 "$(lab_agent_pid "$i")" 2>/dev/null || fail "node $i's agent exited"
done
check "both agents re-listed and kept running"
back=""
for _ in $(seq 1 30); do
  back=$(lab_etcdctl get "$key3" --print-value-only 2>/dev/null | grep -o '"PublicIP":"[^"]*"' || true)
  [ -n "$back" ] && break
  sleep 0.5
done
[ "$back" = "\"PublicIP\":\"$(lab_node_ip 3)\"" ] || fail "node 3's lease $key3 (not in the snapshot) was not created again within 15 s: '$back'"
for i in 1 2; do wait_routes_equal "$i" 4 15; done
check "node 3 created its lease (missing from the snapshot) again, and every node routes nodes 1-4"
echo PASS
