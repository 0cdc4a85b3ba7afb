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

# Routes with hostgw's protocol in node I, one "DEST via GW" per line, sorted.
hostgw_routes() {
  ip -n "$(lab_node_ns "$1")" -j route show proto 77 | jq -r '.[] | "\(.dst) via \(.gateway)"' | sort
}

# The subnet node I leased (from its subnet.env).
node_subnet() {
  local first
  first=$(sed -n 's/^FLANNEL_SUBNET=//p' "$LAB_DIR/n$1/subnet.env")
  # 10.244.3.1/24 -> 10.244.3.0/24
  echo "${first%.*/*}.0/${first#*/}"
}

# The routes node I must hold: every other node's subnet via that node's IP.
expected_routes() {
  local i=$1 n=$2 j
  for j in $(seq 1 "$n"); do
    [ "$j" = "$i" ] && continue
    echo "$(node_subnet "$j") via $(lab_node_ip "$j")"
  done | sort
}

# metric I NAME{LABELS}: the value of one series on node I's /metrics (0 when absent).
metric() {
  local v
  v=$(ip netns exec "$(lab_node_ns "$1")" curl -fsS http://127.0.0.1:9447/metrics | awk -v m="$2" '$1 == m {print $2}' | tail -1)
  echo "${v:-0}"
}

routes_match() { [ "$(hostgw_routes "$1")" = "$(expected_routes "$1" "$2")" ]; }

# wait_routes_equal I N [SECONDS]: node I's hostgw routes become exactly the expected set.
# metric_sum I NAME: the sum of every series of metric NAME on node I (0 when absent).
metric_sum() {
  ip netns exec "$(lab_node_ns "$1")" curl -fsS http://127.0.0.1:9447/metrics |
    awk -v m="$2" 'index($1, m "{") == 1 || $1 == m {s += $2} END {printf "%d\n", s}'
}

wait_routes_equal() {
  lab_wait_for "${3:-10}" routes_match "$1" "$2" ||
    fail "node $1 routes: got [$(hostgw_routes "$1" | tr '\n' ';')] want [$(expected_routes "$1" "$2" | tr '\n' ';')]"
}

# --- IPv6 (LAB_FAMILIES=dual or v6) ------------------------------------------------------------

# IPv6 routes with hostgw's protocol in node I, one "DEST via GW" per line, sorted.
hostgw_routes6() {
  ip -n "$(lab_node_ns "$1")" -6 -j route show proto 77 | jq -r '.[] | "\(.dst) via \(.gateway)"' | sort
}

# The IPv6 subnet node I leased (FLANNEL_IPV6_SUBNET is its first host: fd10:244:0:3::1/64).
node_subnet6() {
  sed -n 's/^FLANNEL_IPV6_SUBNET=//p' "$LAB_DIR/n$1/subnet.env" | sed 's#::1/#::/#'
}

expected_routes6() {
  local i=$1 n=$2 j
  for j in $(seq 1 "$n"); do
    [ "$j" = "$i" ] && continue
    echo "$(node_subnet6 "$j") via $(lab_node_ip6 "$j")"
  done | sort
}

routes6_match() { [ "$(hostgw_routes6 "$1")" = "$(expected_routes6 "$1" "$2")" ]; }

wait_routes6_equal() {
  lab_wait_for "${3:-10}" routes6_match "$1" "$2" ||
    fail "node $1 IPv6 routes: got [$(hostgw_routes6 "$1" | tr '\n' ';')] want [$(expected_routes6 "$1" "$2" | tr '\n' ';')]"
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
