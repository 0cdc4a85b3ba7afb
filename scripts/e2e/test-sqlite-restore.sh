#!/usr/bin/env bash
# Issue 11 item 4, the embedded store: the SQLite file replaced under running agents by an older
# copy (a backup taken with sqlite3's `.backup`, put back with `.restore`, SQLite's own restore
# as an operator would do it). The agents' watches would resume at a revision the file has not
# reached; instead they list again, the node whose lease is missing from the copy creates it
# again, and a lease written after the restore is routed within 15 s.
source "$(dirname "$0")/common.sh"
e2e_lab
LAB_STORE=embedded
N=2
e2e_cluster $N
for i in 1 2; do wait_routes_equal "$i" $N; done
db=$LAB_DIR/store.db
sql() { sqlite3 -cmd ".timeout 5000" "$db" "$@"; }
sql ".backup '$LAB_DIR/backup.db'" || fail "sqlite3 .backup failed"
backup_rev=$(sqlite3 "$LAB_DIR/backup.db" "SELECT revision FROM meta")
check "backup taken at revision $backup_rev"
# Move the store past the backup: a third node, which keeps running through the restore.
lab_node_add 3
lab_agent_start 3
lab_wait_ready 3
for i in 1 2 3; do wait_routes_equal "$i" 3; done
key3="/coreos.com/network/subnets/$(node_subnet 3 | tr / -)"
seen_rev=$(sql "SELECT revision FROM meta")
check "store at revision $seen_rev, every node routed"
((backup_rev < seen_rev)) || fail "the copy is at revision $backup_rev, not below $seen_rev"
sql ".restore '$LAB_DIR/backup.db'" || fail "sqlite3 .restore failed"
# Not the file's revision now: the watches wake on the restore's write, and node 3 re-creates
# its lease (bumping the revision) within milliseconds, before this line could read it.
check "older copy restored: revision $backup_rev < $seen_rev"
# A new node leases after the restore: its key gets a revision the agents have seen before.
lab_node_add 4
lab_agent_start 4
lab_wait_for 30 test -s "$LAB_DIR/n4/subnet.env" || fail "node 4 got no lease after the restore"
leased_at=$(date +%s)
for i in 1 2; do
  lab_wait_for 15 routes_node "$i" 4 ||
    fail "node $i did not route node 4's lease within 15 s: [$(hostgw_routes "$i" | tr '\n' ';')]"
done
check "nodes 1 and 2 route node 4 within $(($(date +%s) - leased_at)) s of its lease"
# Which agents see the lower revision depends on whether they poll before node 3's and node 4's
# writes carry the file past the revision they had seen (their watches wake on the restore's
# write, so usually all of them): node 3 always does, since it found its own lease gone.
relists=0
for i in 1 2 3; do
  relists=$((relists + $(metric_sum "$i" hostgw_lease_relists_total)))
  kill -0 "$(lab_agent_pid "$i")" 2>/dev/null || fail "node $i's agent exited"
done
((relists >= 1)) || fail "no agent counted a re-list"
[ "$(metric 3 'hostgw_lease_repairs_total{kind="recreated"}')" = 1 ] || fail "node 3 did not re-create its lease exactly once"
check "$relists agent(s) re-listed, node 3 re-created its lease, all kept running"
has_key3() { sql "SELECT value FROM kv WHERE key = '$key3'" | grep -q "\"PublicIP\":\"$(lab_node_ip 3)\""; }
lab_wait_for 15 has_key3 || fail "node 3's lease $key3 (not in the older copy) was not created again within 15 s"
for i in 1 2; do wait_routes_equal "$i" 4 15; done
check "node 3 created its lease (missing from the copy) again, and every node routes nodes 1-4"
echo PASS
