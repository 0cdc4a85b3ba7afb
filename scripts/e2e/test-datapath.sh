#!/usr/bin/env bash
# Datapath preconditions on the broken node itself (issue 13): IP forwarding turned off, iptables-nft's
# `iptables -P FORWARD DROP`, and a native nft forward chain with policy drop, each on node 1. Each
# is named within 5 s in `hostgw check` (exit code and text), `hostgw status --json` and
# hostgw_datapath_condition, forwarding off also fails /healthz; each clears within 5 s of the
# repair; node 1's routes stay exactly as they were throughout (no change sent, no drift).
source "$(dirname "$0")/common.sh"
e2e_lab
N=2
e2e_cluster $N
wait_routes_equal 1 $N
ns=$(lab_node_ns 1)
net=10.244.0.0/16


routes_before=$(hostgw_routes 1)
changes_before=$(metric_sum 1 hostgw_route_changes_total)
# routes_kept: node 1's routes are the ones it had, no change was sent and no drift counted.
routes_kept() {
  [ "$(hostgw_routes 1)" = "$routes_before" ] || fail "node 1's routes changed: $(hostgw_routes 1 | tr '\n' ';') (were $(echo "$routes_before" | tr '\n' ';'))"
  [ "$(metric_sum 1 hostgw_route_changes_total)" = "$changes_before" ] || fail "node 1 sent route changes: $(metric_sum 1 hostgw_route_changes_total), was $changes_before"
  [ "$(metric_sum 1 hostgw_drift_events_total)" = 0 ] || fail "node 1 counted drift: $(metric_sum 1 hostgw_drift_events_total)"
}

check_is 0 "HOSTGW OK" || fail "hostgw check is not OK on a healthy node: $(check_line)"
status_clear || fail "status shows datapath conditions on a healthy node: $(lab_hostgw_in "$ns" status --node-name node1 --json | jq -c .datapath)"
lab_hostgw_in "$ns" status --node-name node1 | grep -q '^datapath   forwarding ipv4 all on, ipv4 eth0 on$' ||
  fail "status does not show forwarding on: $(lab_hostgw_in "$ns" status --node-name node1 | grep -A1 datapath)"
for c in ipv4-forwarding-off ipv4-interface-forwarding-off forward-policy-drop filter-unreadable forwarding-unknown iptables-legacy rp-filter-strict bridge-nf-call-iptables; do
  cond_is "$c" 0 || fail "hostgw_datapath_condition{condition=$c} is '$(cond "$c")' on a healthy node"
done
check "healthy node: check OK, no datapath condition, every hostgw_datapath_condition series 0"

# --- 1. IP forwarding off -----------------------------------------------------------------------
ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=0
lab_wait_for 5 cond_is ipv4-forwarding-off 1 || fail "ipv4-forwarding-off not in the metric within 5 s: '$(cond ipv4-forwarding-off)'"
lab_wait_for 5 check_is 2 "ipv4-forwarding-off: IPv4 forwarding is off (net.ipv4.ip_forward = 0)" ||
  fail "hostgw check is not CRITICAL naming ipv4-forwarding-off: $(check_line)"
[[ $(check_line) == *"fix: sysctl -w net.ipv4.ip_forward=1"* ]] || fail "the check line does not name the fix: $(check_line)"
status_has ipv4-forwarding-off critical || fail "status --json lacks ipv4-forwarding-off: $(lab_hostgw_in "$ns" status --node-name node1 --json | jq -c .datapath)"
healthz_is 503 || fail "/healthz answers $(healthz) while forwarding is off"
routes_kept
check "net.ipv4.ip_forward=0: within 5 s check CRITICAL ipv4-forwarding-off (fix named), status JSON and metric 1, /healthz 503, routes kept"
# Node 1 publishes it with its lease: node 2 shows it next to its route to node 1, and in the
# cluster view, within 5 s.
ns2=$(lab_node_ns 2)
peer_reports() { lab_hostgw_in "$ns2" status --node-name node2 | grep -E "^node1 .*peer reports ipv4-forwarding-off \(CRITICAL\)"; }
lab_wait_for 5 peer_reports || fail "node 2's status does not show node 1's published condition: $(lab_hostgw_in "$ns2" status --node-name node2 | grep '^node1')"
cluster_shows() { lab_hostgw_in "$ns2" status --node-name node2 --cluster | grep -E "^node1 .*IPV4-FORWARDING-OFF"; }
cluster_shows || fail "status --cluster on node 2 does not show node 1's condition: $(lab_hostgw_in "$ns2" status --node-name node2 --cluster)"
[ "$(metric_sum 2 hostgw_drift_events_total)" = 0 ] || fail "node 2 counted drift for node 1's published condition"
check "node 1's condition published with its lease: node 2's status and status --cluster show it within 5 s, no drift on node 2"
ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
lab_wait_for 5 cond_is ipv4-forwarding-off 0 || fail "ipv4-forwarding-off still '$(cond ipv4-forwarding-off)' 5 s after the repair"
lab_wait_for 5 check_is 0 "HOSTGW OK" || fail "hostgw check not OK 5 s after the repair: $(check_line)"
healthz_is 200 || fail "/healthz answers $(healthz) after the repair"
routes_kept
cleared_on_peer() { ! lab_hostgw_in "$ns2" status --node-name node2 | grep -q "^node1 .*peer reports"; }
lab_wait_for 5 cleared_on_peer || fail "node 2 still shows node 1's condition 5 s after the repair"
check "net.ipv4.ip_forward=1 again: cleared within 5 s (metric 0, check OK, /healthz 200), routes kept"

# Only the node interface: IPv4 forwards by the input interface.
ip netns exec "$ns" sysctl -qw net.ipv4.conf.eth0.forwarding=0
lab_wait_for 5 check_is 2 "ipv4-interface-forwarding-off: IPv4 forwarding is off on eth0" ||
  fail "hostgw check is not CRITICAL naming ipv4-interface-forwarding-off: $(check_line)"
cond_is ipv4-interface-forwarding-off 1 || fail "ipv4-interface-forwarding-off is '$(cond ipv4-interface-forwarding-off)'"
ip netns exec "$ns" sysctl -qw net.ipv4.conf.eth0.forwarding=1
lab_wait_for 5 check_is 0 "HOSTGW OK" || fail "hostgw check not OK 5 s after eth0 forwarding is back: $(check_line)"
routes_kept
check "net.ipv4.conf.eth0.forwarding=0: CRITICAL ipv4-interface-forwarding-off within 5 s, cleared within 5 s of the repair"

# --- 2. iptables -P FORWARD DROP (iptables-nft) -------------------------------------------------
ip netns exec "$ns" iptables -P FORWARD DROP
want="forward-policy-drop: policy drop on forward hook chain ip filter/FORWARD; make sure pod traffic (network $net) is accepted"
lab_wait_for 5 check_is 1 "$want" || fail "hostgw check is not WARNING naming the FORWARD policy: $(check_line)"
cond_is forward-policy-drop 1 || fail "forward-policy-drop is '$(cond forward-policy-drop)'"
status_has forward-policy-drop warning || fail "status --json lacks forward-policy-drop"
lab_hostgw_in "$ns" status --node-name node1 | grep -q 'nftables forward-hook chains ip filter/FORWARD policy drop' ||
  fail "status text does not show the chain: $(lab_hostgw_in "$ns" status --node-name node1 | grep -A4 datapath)"
healthz_is 200 || fail "/healthz answers $(healthz) for a warning"
# br_netfilter in node 1's namespace with bridge-nf-call-iptables 1 sends same-node pod traffic
# into that chain too: named where it is loaded, and never where it is not.
brnf=$(ip netns exec "$ns" cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null || echo absent)
if [ "$brnf" = 1 ]; then
  lab_wait_for 5 cond_is bridge-nf-call-iptables 1 || fail "bridge-nf-call-iptables is '$(cond bridge-nf-call-iptables)' with br_netfilter on and FORWARD DROP"
  [[ $(check_line) == *"bridge-nf-call-iptables: br_netfilter passes bridged IPv4 traffic to the forward hook"* ]] || fail "the check line does not name bridge-nf-call-iptables: $(check_line)"
  status_has bridge-nf-call-iptables warning || fail "status --json lacks bridge-nf-call-iptables"
else
  cond_is bridge-nf-call-iptables 0 || fail "bridge-nf-call-iptables is '$(cond bridge-nf-call-iptables)' without br_netfilter's switch on ($brnf)"
  lab_hostgw_in "$ns" status --node-name node1 | grep -q 'br_netfilter: \(not loaded\|bridge-nf-call-iptables 0\)' || fail "status does not say br_netfilter's state"
fi
routes_kept
check "iptables -P FORWARD DROP: within 5 s check WARNING '$want', status and metric, /healthz still 200, bridge-nf-call-iptables named iff on ($brnf), routes kept"
ip netns exec "$ns" iptables -P FORWARD ACCEPT
lab_wait_for 5 check_is 0 "HOSTGW OK" || fail "hostgw check not OK 5 s after iptables -P FORWARD ACCEPT: $(check_line)"
cond_is forward-policy-drop 0 || fail "forward-policy-drop still '$(cond forward-policy-drop)'"
cond_is bridge-nf-call-iptables 0 || fail "bridge-nf-call-iptables still '$(cond bridge-nf-call-iptables)'"
check "iptables -P FORWARD ACCEPT: cleared within 5 s"

# --- 3. a native nft forward chain with policy drop ---------------------------------------------
ip netns exec "$ns" nft "add table inet hgwdrill"
ip netns exec "$ns" nft "add chain inet hgwdrill forward { type filter hook forward priority 0 ; policy drop ; }"
lab_wait_for 5 check_is 1 "policy drop on forward hook chain inet hgwdrill/forward" ||
  fail "hostgw check is not WARNING naming inet hgwdrill/forward: $(check_line)"
[[ $(check_line) == *"nft add rule inet hgwdrill forward ip saddr $net accept"* ]] || fail "the check line does not name the nft fix: $(check_line)"
cond_is forward-policy-drop 1 || fail "forward-policy-drop is '$(cond forward-policy-drop)'"
routes_kept
check "nft chain inet hgwdrill/forward policy drop: WARNING within 5 s with the nft accept rule as the fix"
ip netns exec "$ns" nft "delete table inet hgwdrill"
lab_wait_for 5 check_is 0 "HOSTGW OK" || fail "hostgw check not OK 5 s after the table is deleted: $(check_line)"
lab_wait_for 5 cond_is forward-policy-drop 0 || fail "forward-policy-drop still '$(cond forward-policy-drop)'"
status_clear || fail "status still shows conditions: $(lab_hostgw_in "$ns" status --node-name node1 --json | jq -c .datapath.conditions)"
routes_kept
check "nft table deleted: cleared within 5 s; node 1's routes never changed (no route change, no drift)"

# --- 4. the agent stopped: status and check read the datapath themselves ------------------------
lab_agent_stop 1
ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=0
ip netns exec "$ns" iptables -P FORWARD DROP
out=$(check_line)
[[ $out == "HOSTGW CRITICAL"*"agent not running"*"ipv4-forwarding-off: IPv4 forwarding is off"*"forward-policy-drop: policy drop on forward hook chain ip filter/FORWARD"* ]] ||
  fail "offline check does not name the datapath conditions: $out"
lab_hostgw_in "$ns" status --node-name node1 --json | jq -e '.agentRunning == false and ([.datapath.conditions[].condition] | index("ipv4-forwarding-off") != null)' >/dev/null ||
  fail "offline status --json lacks the datapath: $(lab_hostgw_in "$ns" status --node-name node1 --json | jq -c .datapath)"
ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$ns" iptables -P FORWARD ACCEPT
out=$(check_line)
[[ $out != *"ipv4-forwarding-off"* && $out != *"forward-policy-drop"* ]] || fail "offline check still names a repaired condition: $out"
check "agent stopped: offline check CRITICAL names agent not running, ipv4-forwarding-off and forward-policy-drop; offline status --json has them; gone after the repair"
echo PASS
