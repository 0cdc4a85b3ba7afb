#!/usr/bin/env bash
# A step of the wall clock never expires, re-creates nor prolongs a lease in the embedded store
# (issue 11, item 8). The machine's own clock is shared with everything else on this host and
# CLOCK_REALTIME has no namespace, so the drill makes the step from the file's side: it rewrites
# the store as if it had been written under a wall clock STEP seconds behind (or ahead of) the one
# the agents read now. To the agents, which share the real SQLite file, that is exactly what a
# step leaves behind: every recorded expiry and the file's wall-minus-boot offset are STEP seconds
# off the clock they read. Without the step detection, a 2-day forward step purges every lease on
# the next poll (the leases are then re-created under new revisions: the drill checks that they
# are not); a backward step would lengthen every lease by 2 days.
source "$(dirname "$0")/common.sh"
e2e_lab
LAB_STORE=embedded
N=3
TTL=30
LAB_LEASE_TTL=${TTL}s e2e_cluster $N
for i in 1 2 3; do wait_routes_equal "$i" $N; done
db=$LAB_DIR/store.db
sql() { sqlite3 -cmd ".timeout 5000" "$db" "$@"; }
# The subnet leases, one "key create_revision" a line: a re-created lease has a new revision.
leases() { sql "SELECT key, create_revision FROM kv WHERE key LIKE '/coreos.com/network/subnets/%' ORDER BY key"; }
# Seconds until the soonest and the latest lease expiry, by the real wall clock.
expiry_span() { sql "SELECT CAST(MIN(expires_at) - strftime('%s','now') AS INTEGER) || ' ' || CAST(MAX(expires_at) - strftime('%s','now') AS INTEGER) FROM kv WHERE key LIKE '/coreos.com/network/subnets/%'"; }
steps() { local s=0 i; for i in 1 2 3; do s=$((s + $(metric_sum "$i" hostgw_store_clock_steps_total))); done; echo $s; }
before=$(leases)
[ "$(echo "$before" | wc -l)" = $N ] || fail "leases before the step: [$(echo "$before" | tr '\n' ';')]"

# step SECONDS: the wall clock reads SECONDS more than when the file was last written.
step() {
  sql "BEGIN IMMEDIATE;
       UPDATE clock SET offset = offset - $1;
       UPDATE kv SET expires_at = expires_at - $1 WHERE expires_at IS NOT NULL;
       UPDATE events SET expires_at = expires_at - $1 WHERE expires_at IS NOT NULL;
       COMMIT;"
}
# Every lease kept (same keys, same create revisions), every node meshed, expiries within one TTL.
steady() {
  [ "$(leases)" = "$before" ] && routes_match 1 $N && routes_match 2 $N && routes_match 3 $N || return 1
  local span
  span=$(expiry_span)
  ((${span% *} > 0 && ${span#* } <= TTL + 2))
}

step $((2 * 86400))
# Two renewal periods (TTL/3 each): every agent has polled many times and renewed after the step.
sleep $((2 * TTL / 3 + 2))
[ "$(leases)" = "$before" ] || fail "a 2-day forward step changed the leases: before [$(echo "$before" | tr '\n' ';')], after [$(leases | tr '\n' ';')]"
steady || fail "after a 2-day forward step: leases [$(leases | tr '\n' ';')], expiries in [$(expiry_span)] s, node 1 routes [$(hostgw_routes 1 | tr '\n' ';')]"
for i in 1 2 3; do
  [ "$(metric "$i" 'hostgw_lease_repairs_total{kind="recreated"}')" = 0 ] || fail "node $i re-created its lease after the forward step"
done
((s = $(steps), s >= 1)) || fail "no agent counted the step (hostgw_store_clock_steps_total is 0 everywhere)"
check "wall clock 2 days forward: no lease purged or re-created, expiries in [$(expiry_span)] s, all meshed, $s step(s) counted"

step $((-2 * 86400))
sleep $((2 * TTL / 3 + 2))
steady || fail "after a 2-day backward step: leases [$(leases | tr '\n' ';')], expiries in [$(expiry_span)] s (TTL $TTL s)"
check "wall clock 2 days back: no lease lengthened past one TTL (expiries in [$(expiry_span)] s), none re-created, all meshed"

# A node that stops renewing still expires on time after the steps: node 3 stops, its lease goes
# within one TTL (plus a poll) and its route leaves the other nodes.
s3=$(node_subnet 3)
lab_agent_stop 3
gone() { ! sql "SELECT key FROM kv" | grep -q "${s3%/*}-"; }
lab_wait_for $((TTL + 10)) gone || fail "node 3's lease did not expire within $((TTL + 10)) s of its agent stopping"
lab_wait_for 10 bash -c "! ip -n $(lab_node_ns 1) route show proto 77 | grep -q '^${s3%/*}'" || fail "node 1 still routes $s3 after its lease expired"
check "a lease no longer renewed still expires within one TTL after the steps, and its route goes"
echo PASS
