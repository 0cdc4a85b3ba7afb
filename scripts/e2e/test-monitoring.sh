#!/usr/bin/env bash
# Prometheus scrapes and fires: Debian's Prometheus with the shipped alert rules scrapes both
# agents; node 1's agent runs observe-only, one of its routes is deleted, and the drift alert
# (HostgwPeerRoutesUnrepaired) goes pending then firing in Prometheus' own /api/v1/alerts, for
# node 1 only; after the route is put back by hand it resolves, with the series still scraped.
#
# The rules are the shipped file with one change: that alert's `for: 2m` becomes `for: 20s`, so
# the drill fits CI's time. Its expression, labels and annotations are the shipped ones; the
# two minutes themselves are proven by promtool in hostgw-alerts.test.yml.
source "$(dirname "$0")/common.sh"
e2e_lab
N=2
ALERT=HostgwPeerRoutesUnrepaired
e2e_cluster $N
wait_routes_equal 1 $N
ns=$(lab_node_ns 1)

# Observe-only from here on: stop leaves the routes in place.
lab_agent_stop 1
lab_agent_start 1 --observe-only
lab_wait_ready 1
wait_routes_equal 1 $N 5
check "node 1 restarted in observe-only mode with its routes in place"

# The rules with the drill's `for:` (only this alert's line changes; the check below fails if
# the shipped file no longer has the line to change).
awk -v a="$ALERT" '$0 ~ "alert: " a "$" {hit = 1} hit && /^ *for: 2m$/ {sub(/2m/, "20s"); hit = 0} {print}' \
  packaging/prometheus/hostgw-alerts.yml >"$LAB_DIR/alerts.yml"
[ "$(diff packaging/prometheus/hostgw-alerts.yml "$LAB_DIR/alerts.yml" | grep -c '^[<>]')" = 2 ] ||
  fail "could not derive the drill's rules: $ALERT has no 'for: 2m' line in packaging/prometheus/hostgw-alerts.yml"
promtool check rules "$LAB_DIR/alerts.yml" >/dev/null || fail "promtool rejects the drill's rules"
LAB_PROM_RULES=$LAB_DIR/alerts.yml lab_prometheus_up $N 1s
targets_up_is() { [ "$(lab_prom_targets_up)" = "$1" ]; }
lab_wait_for 30 targets_up_is $N ||
  fail "Prometheus does not scrape both agents: $(lab_prom_api /api/v1/targets | jq -c '[.data.activeTargets[] | {instance: .labels.instance, health, lastError}]')"
check "Prometheus scrapes both agents through the forwarders"

# alert_state INSTANCE: the state of $ALERT for that instance in /api/v1/alerts ("" when absent);
# fails when Prometheus does not answer, so "absent" is never an unreachable API.
alert_state() {
  local answer
  answer=$(lab_prom_api /api/v1/alerts) || return 1
  jq -er --arg a "$ALERT" --arg i "$1" \
    'if .status == "success" then [.data.alerts[] | select(.labels.alertname == $a and .labels.instance == $i) | .state][0] // "" else error end' <<<"$answer"
}
alert_is() { local s; s=$(alert_state "$1") && [ "$s" = "$2" ]; }
# prom_value QUERY: the value of a one-series instant query ("" when it has no result).
prom_value() {
  lab_prom_api "/api/v1/query?query=$(jq -rn --arg q "$1" '$q | @uri')" | jq -r '.data.result[0].value[1] // ""'
}
prom_value_is() { [ "$(prom_value "$1")" = "$2" ]; }

alert_is node1 "" || fail "$ALERT is '$(alert_state node1)' before any drift"

s2=$(node_subnet 2)
gw2=$(lab_node_ip 2)
ip -n "$ns" route del "$s2"
lab_wait_for 10 prom_value_is 'hostgw_peers{instance="node1",state="missing"}' 1 ||
  fail "Prometheus does not see node 1's missing peer: '$(prom_value 'hostgw_peers{instance="node1",state="missing"}')'"
ip -n "$ns" route show "$s2" | grep -q . && fail "observe-only agent repaired $s2"
check "route $s2 deleted; the observe-only agent leaves it missing and Prometheus sees hostgw_peers{state=missing} 1"
# The node's own check says so too (never OK while a peer route is missing).
rc=0
out=$(lab_hostgw_in "$ns" check --node-name node1) || rc=$?
[ "$rc" != 0 ] && [[ $out == *"$s2 missing"* ]] || fail "hostgw check exits $rc while $s2 is missing: $out"
check "hostgw check on node 1 exits $rc (not OK) naming $s2 missing"

lab_wait_for 30 alert_is node1 pending || fail "$ALERT not pending for node1: '$(alert_state node1)'"
check "$ALERT pending for node1"
# The drill's `for: 20s`, plus scrape and evaluation.
lab_wait_for 60 alert_is node1 firing || fail "$ALERT not firing for node1 within 60 s: '$(alert_state node1)'"
lab_prom_api /api/v1/alerts | jq -e --arg a "$ALERT" '[.data.alerts[] | select(.labels.alertname == $a and .labels.instance == "node1")][0]
    | .labels.severity == "critical" and .labels.state == "missing" and (.annotations.summary | startswith("1 peer route(s) missing on node1"))' >/dev/null ||
  fail "the firing alert has the wrong labels or summary: $(lab_prom_api /api/v1/alerts | jq -c '.data.alerts')"
alert_is node2 "" || fail "$ALERT is '$(alert_state node2)' for node2, whose routes are intact"
check "$ALERT firing for node1 (severity critical, state missing), not for node2"

# Repair by hand (the agent is observe-only): the exact route hostgw wants.
ip -n "$ns" route add "$s2" via "$gw2" dev eth0 proto 77
wait_routes_equal 1 $N 5
lab_wait_for 30 alert_is node1 "" ||
  fail "$ALERT still $(alert_state node1) after the repair"
# Resolved by the data, not by a lost target: the series is scraped and says 0.
prom_value_is 'hostgw_peers{instance="node1",state="missing"}' 0 ||
  fail "after the repair Prometheus has hostgw_peers{state=missing} '$(prom_value 'hostgw_peers{instance="node1",state="missing"}')', want 0"
prom_value_is 'up{instance="node1"}' 1 || fail "node 1's target is not up"
lab_hostgw_in "$ns" check --node-name node1 --drift-warning 0 >/dev/null ||
  fail "hostgw check is not OK after the repair: $(lab_hostgw_in "$ns" check --node-name node1 --drift-warning 0)"
check "route restored by hand: $ALERT resolved, hostgw_peers{state=missing} 0 for node1, hostgw check OK"
echo PASS
