# shellcheck shell=bash
# Shared by the e2e tests: a lab with a unique prefix, torn down on exit, and assertions.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=../lib/lab.sh
source scripts/lib/lab.sh

e2e_lab() {
  local name
  name="hgwe2e-$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  lab_init "$name" "/tmp/$name" "$HOSTGW_BIN"
  trap 'e2e_on_exit $?' EXIT
}

e2e_on_exit() {
  if [ "$1" != 0 ] && [ -n "${LAB_DIR:-}" ]; then
    for f in "$LAB_DIR"/n*/agent.log "$LAB_DIR"/*.log; do
      [ -f "$f" ] && { echo "--- $f (last 15 lines)"; tail -15 "$f"; }
    done
  fi
  lab_down
}

fail() { echo "FAIL: $*" >&2; exit 1; }
check() { echo "check: $*"; }

# A standard lab: switch, N nodes, external host, store, config, agents, all ready.
e2e_cluster() {
  local n=$1 i
  shift
  lab_switch_up
  for i in $(seq 1 "$n"); do lab_node_add "$i"; done
  lab_external_add
  lab_store_up
  for i in $(seq 1 "$n"); do lab_agent_start "$i" "$@"; done
  for i in $(seq 1 "$n"); do lab_wait_ready "$i"; done
}

# The route helpers take the address family as an optional first argument, as `ip` does: -4
# (the default) or -6 (LAB_FAMILIES=dual or v6).

# hostgw_routes [-4|-6] I: routes with hostgw's protocol in node I, "DEST via GW" a line, sorted.
hostgw_routes() {
  local fam=-4
  case ${1-} in -4 | -6) fam=$1; shift ;; esac
  ip -n "$(lab_node_ns "$1")" "$fam" -j route show proto 77 | jq -r '.[] | "\(.dst) via \(.gateway)"' | sort
}

# node_subnet [-4|-6] I: the subnet node I leased, from its subnet.env (which holds the first host:
# FLANNEL_SUBNET=10.244.3.1/24 is 10.244.3.0/24, FLANNEL_IPV6_SUBNET=fd10:244:0:3::1/64 is
# fd10:244:0:3::/64).
node_subnet() {
  local first
  if [ "${1-}" = -6 ]; then
    sed -n 's/^FLANNEL_IPV6_SUBNET=//p' "$LAB_DIR/n$2/subnet.env" | sed 's#::1/#::/#'
    return
  fi
  [ "${1-}" != -4 ] || shift
  first=$(sed -n 's/^FLANNEL_SUBNET=//p' "$LAB_DIR/n$1/subnet.env")
  echo "${first%.*/*}.0/${first#*/}"
}

# expected_routes [-4|-6] I N: the routes node I must hold: every other node's subnet of that
# family via that node's address of the same family.
expected_routes() {
  local fam=-4 ipof=lab_node_ip j
  case ${1-} in -4 | -6) fam=$1; shift ;; esac
  [ "$fam" = -4 ] || ipof=lab_node_ip6
  for j in $(seq 1 "$2"); do
    [ "$j" = "$1" ] && continue
    echo "$(node_subnet "$fam" "$j") via $($ipof "$j")"
  done | sort
}

# routes_match [-4|-6] I N: node I holds exactly the expected routes of that family.
routes_match() { [ "$(hostgw_routes "$@")" = "$(expected_routes "$@")" ]; }

# routes_node I J: node I has hostgw's route to node J's IPv4 subnet via node J's IP.
routes_node() { ip -n "$(lab_node_ns "$1")" route show proto 77 | grep -q "^$(node_subnet "$2") via $(lab_node_ip "$2")"; }

# wait_routes_equal [-4|-6] I N [SECONDS]: node I's hostgw routes of that family become exactly
# the expected set within SECONDS (default 10).
wait_routes_equal() {
  local fam=-4
  case ${1-} in -4 | -6) fam=$1; shift ;; esac
  lab_wait_for "${3:-10}" routes_match "$fam" "$1" "$2" ||
    fail "node $1 IPv${fam#-} routes: got [$(hostgw_routes "$fam" "$1" | tr '\n' ';')] want [$(expected_routes "$fam" "$1" "$2" | tr '\n' ';')]"
}

# metric I NAME{LABELS}: the value of one series on node I's /metrics (0 when absent).
metric() {
  local v
  v=$(ip netns exec "$(lab_node_ns "$1")" curl -fsS http://127.0.0.1:9447/metrics | awk -v m="$2" '$1 == m {print $2}' | tail -1)
  echo "${v:-0}"
}

# metric_sum I NAME: the sum of every series of metric NAME on node I (0 when absent).
metric_sum() {
  ip netns exec "$(lab_node_ns "$1")" curl -fsS http://127.0.0.1:9447/metrics |
    awk -v m="$2" 'index($1, m "{") == 1 || $1 == m {s += $2} END {printf "%d\n", s}'
}

# e2e_agents_up N [AGENT FLAGS...]: the second half of e2e_cluster, for tests that prepare the nodes
# before the agents start: call lab_switch_up, lab_node_add..., then this.
e2e_agents_up() {
  local n=$1 i
  shift
  lab_store_up
  for i in $(seq 1 "$n"); do lab_agent_start "$i" "$@"; done
  for i in $(seq 1 "$n"); do lab_wait_ready "$i"; done
}

# --- datapath drills: node 1's conditions, as metric, `hostgw check`, status and /healthz -------
# (they read $ns, node 1's namespace, set by the drill)
cond() { metric 1 "hostgw_datapath_condition{condition=\"$1\"}" | awk '{print $1 + 0}'; }
cond_is() { [ "$(cond "$1")" = "$2" ]; }
# check_is RC TEXT: `hostgw check` on node 1 exits RC and its line contains TEXT.
check_is() {
  local rc=0 out
  out=$(lab_hostgw_in "$ns" check --node-name node1) || rc=$?
  [ "$rc" = "$1" ] && [[ $out == *"$2"* ]]
}
check_line() { lab_hostgw_in "$ns" check --node-name node1 || true; }
status_has() {
  lab_hostgw_in "$ns" status --node-name node1 --json |
    jq -e --arg c "$1" --arg s "$2" '[.datapath.conditions[] | select(.condition == $c and .severity == $s)] | length == 1' >/dev/null
}
status_clear() { lab_hostgw_in "$ns" status --node-name node1 --json | jq -e '.datapath.conditions == []' >/dev/null; }
healthz() { ip netns exec "$ns" curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9447/healthz; }
healthz_is() { [ "$(healthz)" = "$1" ]; }
