#!/usr/bin/env bash
# Strict rp_filter where it drops pod traffic (issue 13): node 1 is multi-homed (a management
# interface mgmt0 carries its default route) and its agent puts the peer routes in table 100,
# which local pods reach by policy routing on a firewall mark (`iptables -t mangle ... -i cni0 -j
# MARK`, `ip rule fwmark 0x64 lookup 100`). The reverse-path lookup of a reply arriving on eth0
# carries no mark (src_valid_mark is 0), so it misses table 100, finds the default route via
# mgmt0, and strict mode drops the reply. (A rule on `iif cni0` or `from <pod subnet>` would match
# the reverse lookup too: the kernel looks up the source with the forward route's device as input
# interface and the addresses swapped.) With rp_filter 0 (and loose, 2) pods on node 1 and node 2 reach each
# other; with net.ipv4.conf.eth0.rp_filter=1 (or conf.all 1: the kernel applies the larger) the
# ping fails and rp-filter-strict is named within 5 s (metric 1, `hostgw check`, status JSON);
# within 10 s the probes see the pod path unreachable (CRITICAL naming it, /healthz 503); after
# the repair the ping passes, the pod paths answer again, and the condition clears within 5 s. Node 1's routes in
# table 100 never change (no route change sent, no drift).
# The agents' own pod-path probes take the pods' way too: node 1's carry fwmark 0x64 (found in its
# ip rules), so with rp_filter off both nodes see each other's pod gateway reachable; unmarked they
# followed the default route via mgmt0 and were lost while pods pinged fine (a false unreachable).
source "$(dirname "$0")/common.sh"
e2e_lab
lab_switch_up
lab_node_add 1
lab_node_add 2
lab_node_mgmt_add 1
lab_external_add
ns=$(lab_node_ns 1)
ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0 net.ipv4.conf.mgmt0.rp_filter=0
ip -n "$ns" rule add fwmark 0x64 lookup 100 priority 100
ip netns exec "$ns" iptables -t mangle -A PREROUTING -i cni0 -j MARK --set-mark 0x64
lab_store_up
lab_agent_start 1 --table 100
lab_agent_start 2
lab_wait_ready 1
lab_wait_ready 2

table100() { ip -n "$ns" -j route show table 100 proto 77 | jq -r '.[] | "\(.dst) via \(.gateway)"' | sort; }
want="$(node_subnet 2) via $(lab_node_ip 2)"
lab_wait_for 10 eval '[ "$(table100)" = "$want" ]' || fail "node 1's table 100 holds [$(table100 | tr '\n' ';')], want [$want]"
[ -z "$(hostgw_routes 1)" ] || fail "node 1 has hostgw routes in the main table: $(hostgw_routes 1 | tr '\n' ';')"
wait_routes_equal 2 2
lab_pod_add 1 1
lab_pod_add 2 1
p1=$(lab_pod_ns 1 1)
pod2=$(lab_pod_ip 2 1)
pings() { ip netns exec "$p1" ping -c1 -W1 -q "$pod2" >/dev/null 2>&1; }
# pod_path I J: node I's view of node J's pod path (reachable, unreachable, unknown).
pod_path() {
  lab_hostgw_in "$(lab_node_ns "$1")" status --node-name "node$1" --json |
    jq -r --arg n "node$2" '[.routeSync.peers[] | select(.node == $n) | .reachability.pod.state // "none"][0]'
}
# check_names MIN TEXT: node 1's check is at least WARNING (MIN 1) and names TEXT (once the
# probes see the drop it is CRITICAL: both say what is wrong).
check_names() {
  local rc=0 out
  out=$(lab_hostgw_in "$ns" check --node-name node1) || rc=$?
  [ "$rc" -ge "$1" ] && [ "$rc" -le 2 ] && [[ $out == *"$2"* ]]
}
pod_paths_are() { [ "$(pod_path 1 2)" = "$1" ] && [ "$(pod_path 2 1)" = "$1" ]; }
no_pings() { ! ip netns exec "$p1" ping -c2 -W1 -q "$pod2" >/dev/null 2>&1; }

routes_before=$(table100)
changes_before=$(metric_sum 1 hostgw_route_changes_total)
routes_kept() {
  [ "$(table100)" = "$routes_before" ] || fail "node 1's table 100 changed: $(table100 | tr '\n' ';') (was $routes_before)"
  [ "$(metric_sum 1 hostgw_route_changes_total)" = "$changes_before" ] || fail "node 1 sent route changes: $(metric_sum 1 hostgw_route_changes_total), was $changes_before"
  [ "$(metric_sum 1 hostgw_drift_events_total)" = 0 ] || fail "node 1 counted drift: $(metric_sum 1 hostgw_drift_events_total)"
}

lab_wait_for 5 pings || fail "pod 1 on node 1 does not reach pod 1 on node 2 ($pod2) with rp_filter 0"
lab_wait_for 10 pod_paths_are reachable ||
  fail "the agents' pod-path probes do not take table 100's route: node 1 sees node 2's pod path $(pod_path 1 2), node 2 sees node 1's $(pod_path 2 1)"
grep -q "pod-path probes and probe replies carry fwmark 0x64" "$LAB_DIR/n1/agent.log" || fail "node 1 does not say its probes carry fwmark 0x64"
check_is 0 "HOSTGW OK" || fail "hostgw check is not OK with rp_filter 0: $(check_line)"
cond_is rp-filter-strict 0 || fail "rp-filter-strict is '$(cond rp-filter-strict)' with rp_filter 0"
lab_hostgw_in "$ns" status --node-name node1 | grep -q "rp_filter eth0 off (all 0, eth0 0), hostgw's routes in table 100" ||
  fail "status does not show rp_filter: $(lab_hostgw_in "$ns" status --node-name node1 | grep -A3 datapath)"
check "rp_filter 0, routes in table 100, default route via mgmt0: pods ping across, pod-path probes (fwmark 0x64) reachable both ways, check OK, rp-filter-strict 0"

# --- strict on eth0 ------------------------------------------------------------------------------
ip netns exec "$ns" sysctl -qw net.ipv4.conf.eth0.rp_filter=1
lab_wait_for 5 cond_is rp-filter-strict 1 || fail "rp-filter-strict not in the metric within 5 s: '$(cond rp-filter-strict)'"
lab_wait_for 5 check_names 1 "rp-filter-strict: strict reverse-path filtering on eth0 (rp_filter all 0, eth0 1) while hostgw's routes are in table 100" ||
  fail "hostgw check does not name rp-filter-strict: $(check_line)"
[[ $(check_line) == *"fix: sysctl -w net.ipv4.conf.eth0.rp_filter=2"* ]] || fail "the check line does not name the fix: $(check_line)"
status_has rp-filter-strict warning || fail "status --json lacks rp-filter-strict: $(lab_hostgw_in "$ns" status --node-name node1 --json | jq -c .datapath)"
lab_hostgw_in "$ns" status --node-name node1 --json | jq -e '.datapath.rpFilter == {all: 0, interface: 1, effective: 1} and .datapath.routeTable == 100' >/dev/null ||
  fail "status --json rpFilter/routeTable: $(lab_hostgw_in "$ns" status --node-name node1 --json | jq -c '.datapath | {rpFilter, routeTable}')"
no_pings || fail "pods still reach each other with strict rp_filter on node 1's eth0: the drill does not show the drop"
# The probes see the drop too (node 1 drops the answers to its pod-path probes, and node 2's
# probes of node 1's pod gateway): every peer is unreachable for pods, which is this node's
# problem: CRITICAL naming the pod path, not "cut off on the node network", and /healthz fails.
lab_wait_for 10 eval '[ "$(pod_path 1 2)" = unreachable ]' || fail "node 1 does not see node 2's pod path unreachable with strict rp_filter: $(pod_path 1 2)"
check_is 2 "none of the 1 peer(s) is reachable for pods: every node answers on the node network" ||
  fail "hostgw check is not CRITICAL naming the pod path: $(check_line)"
[[ $(check_line) == *"rp-filter-strict: strict reverse-path filtering on eth0"* ]] || fail "the CRITICAL check line lost rp-filter-strict: $(check_line)"
[[ $(check_line) != *"cut off on the node network"* ]] || fail "the check blames the node network: $(check_line)"
healthz_is 503 || fail "/healthz answers $(healthz) while no peer is reachable for pods"
routes_kept
check "net.ipv4.conf.eth0.rp_filter=1: ping fails; within 5 s metric 1, check names rp-filter-strict (fix named), status JSON; within 10 s the pod path is unreachable, CRITICAL naming it, /healthz 503; routes kept"

# Repair as the fix says: loose on eth0.
ip netns exec "$ns" sysctl -qw net.ipv4.conf.eth0.rp_filter=2
lab_wait_for 5 cond_is rp-filter-strict 0 || fail "rp-filter-strict still '$(cond rp-filter-strict)' 5 s after rp_filter=2"
lab_wait_for 5 pings || fail "pods do not reach each other with loose rp_filter"
lab_wait_for 10 pod_paths_are reachable || fail "pod paths not reachable again after rp_filter=2: node 1 sees $(pod_path 1 2), node 2 sees $(pod_path 2 1)"
lab_wait_for 5 check_is 0 "HOSTGW OK" || fail "hostgw check not OK after rp_filter=2: $(check_line)"
healthz_is 200 || fail "/healthz answers $(healthz) after the repair"
routes_kept
check "net.ipv4.conf.eth0.rp_filter=2 (loose): cleared within 5 s, pods ping across, routes kept"

# --- strict from conf.all: the kernel applies max(all, eth0) ----------------------------------
ip netns exec "$ns" sysctl -qw net.ipv4.conf.eth0.rp_filter=0 net.ipv4.conf.all.rp_filter=1
lab_wait_for 5 check_names 1 "rp-filter-strict: strict reverse-path filtering on eth0 (rp_filter all 1, eth0 0)" ||
  fail "hostgw check does not name rp-filter-strict for conf.all.rp_filter=1: $(check_line)"
cond_is rp-filter-strict 1 || fail "rp-filter-strict is '$(cond rp-filter-strict)' with conf.all 1"
no_pings || fail "pods still reach each other with conf.all.rp_filter=1"
ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0
lab_wait_for 5 cond_is rp-filter-strict 0 || fail "rp-filter-strict still '$(cond rp-filter-strict)' 5 s after conf.all 0"
lab_wait_for 5 pings || fail "pods do not reach each other after conf.all 0"
lab_wait_for 10 pod_paths_are reachable || fail "pod paths not reachable again after conf.all 0: node 1 sees $(pod_path 1 2), node 2 sees $(pod_path 2 1)"
lab_wait_for 5 check_is 0 "HOSTGW OK" || fail "hostgw check not OK after conf.all 0: $(check_line)"
routes_kept
check "net.ipv4.conf.all.rp_filter=1 with eth0 0: named within 5 s, ping fails; all 0: cleared within 5 s, ping passes, pod paths reachable, routes kept"
echo PASS
