# shellcheck shell=bash
# The hostgw namespace lab: nodes on one bridge, a store, one agent per node, pods made by the
# real CNI bridge + host-local plugins, and an external host. Used by scripts/demo and the
# end-to-end tests. Everything lives in network namespaces named "$LAB-*" and in "$LAB_DIR";
# nothing touches the root namespace's links, addresses or routes.
#
# Topology (node network 10.77.0.0/24, pod network 10.244.0.0/16):
#   $LAB-sw     the switch: bridge br0; the etcd store listens here on 10.77.0.2
#   $LAB-mK     etcd member K of the 3-member store (LAB_STORE=etcd3): eth0 10.77.0.(K+1)/24 on
#               switch port mK, so `lab_etcd_port down mK` makes it go dark (no TCP reset)
#   $LAB-nI     node I: eth0 10.77.0.(10+I)/24, forwarding on, `hostgw run` inside
#   $LAB-nIpJ   pod J on node I: eth0 from the CNI bridge plugin on the node's cni0
#   $LAB-ext    an external host: eth0 10.77.0.100/24, no lease, routes from hostgw
#
# LAB_FAMILIES picks the address families (default v4):
#   v4    the above
#   dual  also IPv6: node network fd00:77::/64 (node I fd00:77::(10+I), the switch fd00:77::2,
#         the external host fd00:77::100), EnableIPv6 with pod network fd10:244::/56 (/64 per
#         node); pods get one address of each family from the bridge plugin's two ranges
#   v6    an IPv6-only pod network (EnableIPv4 false); nodes have only IPv6 on eth0 and an IPv6
#         default route via fd00:77::1 (the switch), so the agent can find eth0 without --iface
# LAB_AGENT_IFACE: the --iface every agent gets (default eth0; empty: none, the agent decides).

LAB_NODE_NET=10.77.0
LAB_POD_NET=10.244.0.0/16
LAB_SUBNET_LEN=24
LAB_STORE_IP=10.77.0.2
LAB_EXT_IP=10.77.0.100
LAB_CNI_PATH=${LAB_CNI_PATH:-/usr/lib/cni}
LAB_FAMILIES=${LAB_FAMILIES:-v4}
LAB_NODE_NET6=fd00:77:
LAB_POD_NET6=${LAB_POD_NET6:-fd10:244::/56}
LAB_SUBNET_LEN6=${LAB_SUBNET_LEN6:-64}
LAB_STORE_IP6=fd00:77::2
LAB_ROUTER_IP6=fd00:77::1
LAB_EXT_IP6=fd00:77::100
# Where the lab's Prometheus listens (in the switch namespace) and the agents' metrics forwarders.
LAB_PROM_PORT=9090
LAB_METRICS_PORT=9448

lab_say() { printf '\033[1m[lab]\033[0m %s\n' "$*" >&2; }
lab_fail() { printf '\033[1;31m[lab] error:\033[0m %s\n' "$*" >&2; return 1; }

# lab_init PREFIX DIR HOSTGW_BINARY: names the lab; does not create anything yet.
lab_init() {
  LAB=$1
  LAB_DIR=$2
  HOSTGW=$3
  LAB_STORE=${LAB_STORE:-embedded}
  mkdir -p "$LAB_DIR"
  echo "$LAB" >"$LAB_DIR/name"
  : >"$LAB_DIR/pids"
}

lab_node_ns() { echo "$LAB-n$1"; }
lab_pod_ns() { echo "$LAB-n$1p$2"; }
lab_node_ip() { echo "$LAB_NODE_NET.$((10 + $1))"; }
lab_node_ip6() { echo "$LAB_NODE_NET6:$((10 + $1))"; }
lab_has_v4() { [ "$LAB_FAMILIES" != v6 ]; }
lab_has_v6() { [ "$LAB_FAMILIES" != v4 ]; }
lab_exec() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

lab_switch_up() {
  lab_say "creating the switch namespace $LAB-sw with bridge br0"
  ip netns add "$LAB-sw"
  lab_no_dad "$LAB-sw"
  ip -n "$LAB-sw" link set lo up
  ip -n "$LAB-sw" link add br0 type bridge
  ip -n "$LAB-sw" link set br0 up
  ip -n "$LAB-sw" addr add "$LAB_STORE_IP/24" dev br0
  if lab_has_v6; then
    ip -n "$LAB-sw" addr add "$LAB_STORE_IP6/64" dev br0 nodad
    ip -n "$LAB-sw" addr add "$LAB_ROUTER_IP6/64" dev br0 nodad
  fi
}

# lab_no_dad NS: IPv6 addresses in NS usable at once (no duplicate address detection wait): the
# lab's addresses are unique by construction, and a tentative address cannot be a gateway.
lab_no_dad() {
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
}

# lab_wire NS PORT ADDR/LEN: a veth from namespace NS (as eth0) to port PORT of the switch bridge
# (port names only need to be unique inside the lab's own switch namespace).
# ADDR may be empty (an IPv6-only host); ADDR6, if given, is added too.
lab_wire() {
  local ns=$1 port=$2 addr=$3 addr6=${4:-}
  lab_no_dad "$ns"
  ip link add "$port" netns "$LAB-sw" type veth peer name eth0 netns "$ns"
  ip -n "$LAB-sw" link set "$port" master br0 up
  ip -n "$ns" link set lo up
  [ -z "$addr" ] || ip -n "$ns" addr add "$addr" dev eth0
  [ -z "$addr6" ] || ip -n "$ns" addr add "$addr6" dev eth0 nodad
  ip -n "$ns" link set eth0 up
}

lab_node_add() {
  local i=$1 ns
  local v4="" v6=""
  ns=$(lab_node_ns "$i")
  lab_has_v4 && v4="$(lab_node_ip "$i")/24"
  lab_has_v6 && v6="$(lab_node_ip6 "$i")/64"
  lab_say "creating node $i: namespace $ns, eth0 ${v4:+$v4 }$v6"
  ip netns add "$ns"
  lab_wire "$ns" "n$i" "$v4" "$v6"
  ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.forwarding=1
  # An IPv6-only node reaches the world through the switch: its only default route is IPv6.
  [ "$LAB_FAMILIES" != v6 ] || ip -n "$ns" -6 route add default via "$LAB_ROUTER_IP6" dev eth0
  mkdir -p "$LAB_DIR/n$i"
}

# lab_node_mgmt_add I: a second interface mgmt0 on node I, 192.168.77.(10+I)/24 (and, with IPv6,
# fd00:78::(10+I)/64), carrying an IPv4 default route: a management network that is not the way
# to the other nodes' pods. Only the IPv6 default route tells the two interfaces apart.
lab_node_mgmt_add() {
  local i=$1 ns
  ns=$(lab_node_ns "$i")
  ip -n "$ns" link add mgmt0 type veth peer name mgmt1
  ip -n "$ns" addr add "192.168.77.$((10 + i))/24" dev mgmt0
  ! lab_has_v6 || ip -n "$ns" addr add "fd00:78::$((10 + i))/64" dev mgmt0 nodad
  ip -n "$ns" link set mgmt1 up
  ip -n "$ns" link set mgmt0 up
  ip -n "$ns" route add default via 192.168.77.1 dev mgmt0 onlink
}

lab_external_add() {
  local v4="" v6=""
  lab_has_v4 && v4="$LAB_EXT_IP/24"
  lab_has_v6 && v6="$LAB_EXT_IP6/64"
  lab_say "creating the external host: namespace $LAB-ext, eth0 ${v4:+$v4 }$v6 (no lease)"
  ip netns add "$LAB-ext"
  lab_wire "$LAB-ext" ext "$v4" "$v6"
}

lab_netconf() {
  case $LAB_FAMILIES in
    v4) printf '{"Network": "%s", "SubnetLen": %s, "Backend": {"Type": "host-gw"}}\n' "$LAB_POD_NET" "$LAB_SUBNET_LEN" ;;
    dual)
      printf '{"Network": "%s", "SubnetLen": %s, "EnableIPv6": true, "IPv6Network": "%s", "IPv6SubnetLen": %s, "Backend": {"Type": "host-gw"}}\n' \
        "$LAB_POD_NET" "$LAB_SUBNET_LEN" "$LAB_POD_NET6" "$LAB_SUBNET_LEN6"
      ;;
    v6)
      printf '{"EnableIPv4": false, "EnableIPv6": true, "IPv6Network": "%s", "IPv6SubnetLen": %s, "Backend": {"Type": "host-gw"}}\n' \
        "$LAB_POD_NET6" "$LAB_SUBNET_LEN6"
      ;;
    *) lab_fail "unknown LAB_FAMILIES '$LAB_FAMILIES' (v4, dual or v6)" ;;
  esac
}

# The store flags every hostgw command in the lab uses.
lab_store_flags() {
  case $LAB_STORE in
    embedded) echo "--store embedded --store-path $LAB_DIR/store.db" ;;
    etcd) echo "--store etcd --etcd-endpoints http://$LAB_STORE_IP:2379" ;;
    etcd3) echo "--store etcd --etcd-endpoints http://10.77.0.2:2379,http://10.77.0.3:2379,http://10.77.0.4:2379" ;;
  esac
}

# lab_etcd_member NAME IP CLUSTER: one etcd member in its own namespace $LAB-NAME, wired to
# switch port NAME with address IP.
lab_etcd_member() {
  local name=$1 ip=$2 cluster=$3
  ip netns add "$LAB-$name"
  lab_wire "$LAB-$name" "$name" "$ip/24"
  ip netns exec "$LAB-$name" etcd --name "$name" --data-dir "$LAB_DIR/etcd-$name" \
    --listen-client-urls "http://$ip:2379" --advertise-client-urls "http://$ip:2379" \
    --listen-peer-urls "http://$ip:2380" --initial-advertise-peer-urls "http://$ip:2380" \
    --initial-cluster "$cluster" --initial-cluster-state new \
    --heartbeat-interval 100 --election-timeout 1000 >"$LAB_DIR/etcd-$name.log" 2>&1 &
  echo "$! etcd-$name" >>"$LAB_DIR/pids"
}

# lab_etcd_leader: the name of the current leader of the 3-member lab cluster (m1, m2 or m3).
lab_etcd_leader() {
  local i
  for i in 1 2 3; do
    if ip netns exec "$LAB-m$i" etcdctl --endpoints "http://10.77.0.$((i + 1)):2379" endpoint status -w json 2>/dev/null |
      jq -e '.[0].Status.leader == .[0].Status.header.member_id' >/dev/null 2>&1; then
      echo "m$i"
      return 0
    fi
  done
  return 1
}

# lab_etcd_port up|down NAME: the switch port of etcd member NAME (m1..m3). Down, the member is
# dark: no TCP reset reaches anyone, as after a power loss or a dead switch port.
lab_etcd_port() {
  ip -n "$LAB-sw" link set "$2" "$1"
}

# lab_etcd_member_of URL: the member name (m1..m3) of a lab etcd3 client URL.
lab_etcd_member_of() {
  local ip=${1#http://}
  ip=${ip%:*}
  echo "m$((${ip##*.} - 1))"
}

# lab_etcdctl ARGS...: etcdctl against the lab's single etcd (LAB_STORE=etcd), from the switch.
lab_etcdctl() {
  ip netns exec "$LAB-sw" env ETCDCTL_API=3 etcdctl --endpoints "http://127.0.0.1:2379" "$@"
}

# lab_etcd_single_start DATA_DIR: the single etcd of LAB_STORE=etcd, in the switch namespace.
lab_etcd_single_start() {
  ip netns exec "$LAB-sw" etcd --name lab --data-dir "$1" \
    --listen-client-urls "http://$LAB_STORE_IP:2379,http://127.0.0.1:2379" \
    --advertise-client-urls "http://$LAB_STORE_IP:2379" \
    --listen-peer-urls "http://127.0.0.1:2380" --initial-advertise-peer-urls "http://127.0.0.1:2380" \
    --initial-cluster "lab=http://127.0.0.1:2380" >>"$LAB_DIR/etcd.log" 2>&1 &
  echo "$! etcd" >>"$LAB_DIR/pids"
  local n
  for n in $(seq 1 100); do
    lab_etcdctl endpoint health >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  lab_fail "etcd did not become healthy; see $LAB_DIR/etcd.log"
}

# lab_etcd_single_stop: stops the single etcd (and waits for it).
lab_etcd_single_stop() {
  local pid
  for pid in $(awk '$2 == "etcd" {print $1}' "$LAB_DIR/pids"); do
    kill -TERM "$pid" 2>/dev/null || true
    lab_wait_for 10 sh -c "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null || true
  done
}

lab_store_up() {
  case $LAB_STORE in
    embedded)
      lab_say "store: embedded SQLite file $LAB_DIR/store.db (shared by every node's agent)"
      ;;
    etcd)
      lab_say "store: starting etcd in $LAB-sw on $LAB_STORE_IP:2379"
      lab_etcd_single_start "$LAB_DIR/etcd"
      ;;
    etcd3)
      lab_say "store: starting a 3-member etcd cluster, members in $LAB-m1..m3 on 10.77.0.2-4"
      # The members own 10.77.0.2-4; the switch keeps no address of its own.
      ip -n "$LAB-sw" addr del "$LAB_STORE_IP/24" dev br0
      local cluster="m1=http://10.77.0.2:2380,m2=http://10.77.0.3:2380,m3=http://10.77.0.4:2380" n
      lab_etcd_member m1 10.77.0.2 "$cluster"
      lab_etcd_member m2 10.77.0.3 "$cluster"
      lab_etcd_member m3 10.77.0.4 "$cluster"
      for n in $(seq 1 100); do lab_etcd_leader >/dev/null && break; sleep 0.1; done
      lab_etcd_leader >/dev/null || lab_fail "the etcd cluster elected no leader; see $LAB_DIR/etcd-m*.log"
      ;;
    *) lab_fail "unknown store '$LAB_STORE' (embedded, etcd or etcd3)" ;;
  esac
  # shellcheck disable=SC2046
  lab_netconf >"$LAB_DIR/net-conf.json"
  lab_hostgw_in "$LAB-n1" config set "$LAB_DIR/net-conf.json" >/dev/null ||
    lab_fail "hostgw config set failed"
}

# lab_hostgw_in NS ARGS...: a hostgw admin command inside namespace NS with the lab's store flags.
lab_hostgw_in() {
  local ns=$1 cmd=$2
  shift 2
  # shellcheck disable=SC2046
  ip netns exec "$ns" "$HOSTGW" "$cmd" "$@" $(lab_store_flags)
}

# lab_agent_start I [EXTRA FLAGS...]: `hostgw run` for node I in the background (named nodeI,
# or $LAB_NODE_NAME: two machines sharing one name).
lab_agent_start() {
  local i=$1 ns
  shift
  ns=$(lab_node_ns "$i")
  lab_say "starting hostgw run on node $i ($ns)"
  # shellcheck disable=SC2046
  local iface=()
  [ -z "${LAB_AGENT_IFACE-eth0}" ] || iface=(--iface "${LAB_AGENT_IFACE-eth0}")
  ip netns exec "$ns" "$HOSTGW" run $(lab_store_flags) \
    --node-name "${LAB_NODE_NAME:-node$i}" "${iface[@]}" \
    --subnet-file "$LAB_DIR/n$i/subnet.env" --cni-conflist "$LAB_DIR/n$i/10-hostgw.conflist" \
    --state-dir "$LAB_DIR/n$i/state" --listen 127.0.0.1:9447 \
    --resync-period "${LAB_RESYNC:-30s}" --lease-ttl "${LAB_LEASE_TTL:-24h}" "$@" \
    >>"$LAB_DIR/n$i/agent.log" 2>&1 &
  echo "$!" >"$LAB_DIR/n$i/agent.pid"
  echo "$! agent-n$i" >>"$LAB_DIR/pids"
}

lab_agent_pid() { cat "$LAB_DIR/n$1/agent.pid" 2>/dev/null; }

# lab_agent_stop I [SIGNAL]
lab_agent_stop() {
  local pid
  pid=$(lab_agent_pid "$1") || return 0
  kill "-${2:-TERM}" "$pid" 2>/dev/null || true
  local n
  for n in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

# lab_wait_for SECONDS CMD...: retries CMD every 100 ms until it succeeds or time runs out.
lab_wait_for() {
  local deadline=$(($(date +%s%N) + $1 * 1000000000))
  shift
  until "$@" >/dev/null 2>&1; do
    (($(date +%s%N) < deadline)) || return 1
    sleep 0.1
  done
}

lab_agent_ready() { ip netns exec "$(lab_node_ns "$1")" curl -fsS "http://127.0.0.1:9447/readyz"; }

lab_wait_ready() {
  local i=$1
  lab_wait_for "${2:-20}" lab_agent_ready "$i" ||
    lab_fail "node $i's agent did not become ready; see $LAB_DIR/n$i/agent.log"
}

# lab_pod_add I J: pod J on node I, via the CNI plugins and the conflist hostgw wrote.
lab_pod_add() {
  local i=$1 j=$2 ns node conf
  ns=$(lab_pod_ns "$i" "$j")
  node=$(lab_node_ns "$i")
  conf="$LAB_DIR/n$i/10-hostgw.conflist"
  [ -s "$conf" ] || lab_fail "node $i has no CNI conflist yet ($conf): is its agent running?"
  ip netns add "$ns"
  lab_no_dad "$ns"
  ip -n "$ns" link set lo up
  # The bridge plugin takes one plugin config; host-local keeps its allocations per node.
  jq --arg dir "$LAB_DIR/n$i/ipam" '.plugins[0] + {cniVersion: .cniVersion, name: .name}
      | .ipam.dataDir = $dir' "$conf" >"$LAB_DIR/n$i/pod-$j.json"
  ip netns exec "$node" env CNI_COMMAND=ADD CNI_CONTAINERID="$ns" CNI_NETNS="/var/run/netns/$ns" \
    CNI_IFNAME=eth0 CNI_PATH="$LAB_CNI_PATH" "$LAB_CNI_PATH/bridge" \
    <"$LAB_DIR/n$i/pod-$j.json" >"$LAB_DIR/n$i/pod-$j.result" ||
    lab_fail "CNI ADD for pod $j on node $i failed: $(cat "$LAB_DIR/n$i/pod-$j.result")"
  # One address per family the network enables (the conflist has one range set per family).
  jq -r '[.ips[].address | split("/")[0] | select(contains(":") | not)][0] // empty' "$LAB_DIR/n$i/pod-$j.result" >"$LAB_DIR/n$i/pod-$j.ip"
  jq -r '[.ips[].address | split("/")[0] | select(contains(":"))][0] // empty' "$LAB_DIR/n$i/pod-$j.result" >"$LAB_DIR/n$i/pod-$j.ip6"
  lab_say "pod $j on node $i: namespace $ns, address $(cat "$LAB_DIR/n$i/pod-$j.ip" "$LAB_DIR/n$i/pod-$j.ip6" | tr '\n' ' ')"
}

lab_pod_ip() { cat "$LAB_DIR/n$1/pod-$2.ip"; }
lab_pod_ip6() { cat "$LAB_DIR/n$1/pod-$2.ip6"; }

# --- Prometheus ------------------------------------------------------------------------------
# Agents listen on loopback inside their node namespace (as on a real node), which no other
# namespace can reach. The lab runs one Prometheus (Debian's) in the switch namespace, and in
# each node namespace a socat forwarder from the node's address, port $LAB_METRICS_PORT, to the
# agent's 127.0.0.1:9447: the lab's stand-in for a Prometheus agent on every node. The rules
# are the shipped packaging/prometheus/hostgw-alerts.yml, unmodified, unless LAB_PROM_RULES
# names another file (the monitoring drill shortens one `for:`).

# lab_metrics_forward I: node I's agent metrics on $(lab_node_ip I):$LAB_METRICS_PORT.
lab_metrics_forward() {
  local i=$1 ns
  ns=$(lab_node_ns "$i")
  ip netns exec "$ns" socat "TCP-LISTEN:$LAB_METRICS_PORT,bind=$(lab_node_ip "$i"),fork,reuseaddr" TCP:127.0.0.1:9447 \
    >/dev/null 2>&1 &
  echo "$! metrics-forward-n$i" >>"$LAB_DIR/pids"
  lab_wait_for 5 ip netns exec "$ns" sh -c "ss -ltnH | grep -q :$LAB_METRICS_PORT" ||
    lab_fail "the metrics forwarder of node $i did not start"
}

# lab_prometheus_up N [INTERVAL]: Prometheus scraping nodes 1..N every INTERVAL (default 5s),
# evaluating the shipped alert rules as often. Each node is the target's `instance` (nodeI).
lab_prometheus_up() {
  local n=$1 interval=${2:-5s} i dir="$LAB_DIR/prometheus"
  local rules=${LAB_PROM_RULES:-$PWD/packaging/prometheus/hostgw-alerts.yml}
  mkdir -p "$dir"
  for i in $(seq 1 "$n"); do lab_metrics_forward "$i"; done
  {
    printf 'global:\n  scrape_interval: %s\n  evaluation_interval: %s\n' "$interval" "$interval"
    printf 'rule_files:\n  - %s\n' "$rules"
    printf 'scrape_configs:\n  - job_name: hostgw\n    static_configs:\n'
    for i in $(seq 1 "$n"); do
      printf '      - targets: ["%s:%s"]\n        labels: {instance: node%s}\n' "$(lab_node_ip "$i")" "$LAB_METRICS_PORT" "$i"
    done
  } >"$dir/prometheus.yml"
  promtool check config "$dir/prometheus.yml" >"$dir/check.log" 2>&1 ||
    lab_fail "promtool rejects the lab's Prometheus config: $(cat "$dir/check.log")"
  lab_say "starting Prometheus in $LAB-sw on $LAB_STORE_IP:$LAB_PROM_PORT (rules: $rules, scrape every $interval)"
  ip netns exec "$LAB-sw" prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
    --web.listen-address="$LAB_STORE_IP:$LAB_PROM_PORT" >"$dir/prometheus.log" 2>&1 &
  echo "$! prometheus" >>"$LAB_DIR/pids"
  lab_wait_for 60 lab_prom_api /-/ready || lab_fail "Prometheus did not become ready; see $dir/prometheus.log"
}

# lab_prom_api PATH: GET PATH of the lab's Prometheus HTTP API (from the switch namespace).
lab_prom_api() { ip netns exec "$LAB-sw" curl -fsS "http://$LAB_STORE_IP:$LAB_PROM_PORT$1"; }

# lab_prom_targets_up: the number of targets Prometheus scraped successfully last time.
lab_prom_targets_up() {
  lab_prom_api /api/v1/targets | jq '[.data.activeTargets[] | select(.health == "up")] | length'
}

# lab_echo_start [-4|-6] NS [PORT]: a TCP server in NS that answers each connection with the
# peer's address; IPv4 on port 7777 by default, IPv6 (-6) on 7778, so both can run in one pod.
lab_echo_start() {
  local fam=-4
  case $1 in -4 | -6) fam=$1; shift ;; esac
  local ns=$1 listen=TCP4-LISTEN opts="" port
  [ "$fam" = -4 ] || { listen=TCP6-LISTEN; opts=,ipv6only=1; }
  port=${2:-$([ "$fam" = -4 ] && echo 7777 || echo 7778)}
  ip netns exec "$ns" socat "$listen:$port,fork,reuseaddr$opts" SYSTEM:'printenv SOCAT_PEERADDR' >/dev/null 2>&1 &
  echo "$! echo$fam-$ns" >>"$LAB_DIR/pids"
  lab_wait_for 5 ip netns exec "$ns" sh -c "ss $fam -ltnH | grep -q :$port"
}

# lab_echo_ask [-4|-6] FROM_NS ADDR [PORT]: the source address the server at ADDR saw. socat
# reports an IPv6 peer in full ([fd00:0000:...:0005]): that answer is compressed back to the usual
# form, so it compares equal to the addresses the lab hands out.
lab_echo_ask() {
  local fam=-4 seen
  case $1 in -4 | -6) fam=$1; shift ;; esac
  if [ "$fam" = -4 ]; then
    ip netns exec "$1" socat -T2 - "TCP4:$2:${3:-7777},connect-timeout=2" </dev/null 2>/dev/null
    return
  fi
  seen=$(ip netns exec "$1" socat -T2 - "TCP6:[$2]:${3:-7778},connect-timeout=2" </dev/null 2>/dev/null | tr -d '[]')
  [ -n "$seen" ] && lab_ip6_compress "$seen"
}

# lab_ip6_compress ADDR: RFC 5952 text (leading zeros dropped, the longest run of two or more
# zero groups as ::) of a full or partly compressed IPv6 address.
lab_ip6_compress() {
  local a=$1 head tail h=() t=() g=() k n best=-1 bestlen=1 run=0 start=0 out=""
  if [[ $a == *::* ]]; then head=${a%%::*}; tail=${a#*::}; else head=$a; tail=; fi
  [ -z "$head" ] || IFS=: read -ra h <<<"$head"
  [ -z "$tail" ] || IFS=: read -ra t <<<"$tail"
  n=$((8 - ${#h[@]} - ${#t[@]}))
  for k in "${h[@]}"; do g+=("$((16#$k))"); done
  for ((k = 0; k < n; k++)); do g+=(0); done
  for k in "${t[@]}"; do g+=("$((16#$k))"); done
  for ((k = 0; k < 8; k++)); do
    if ((g[k] == 0)); then
      ((run == 0)) && start=$k
      run=$((run + 1))
      ((run > bestlen)) && { best=$start; bestlen=$run; }
    else
      run=0
    fi
  done
  for ((k = 0; k < 8; k++)); do
    if ((k == best)); then
      out+="::"
      k=$((k + bestlen - 1))
      continue
    fi
    [[ -z $out || $out == *:: ]] || out+=":"
    out+=$(printf '%x' "${g[k]}")
  done
  echo "$out"
}

# lab_down: stop every process, remove every namespace and the lab folder. Safe to call twice.
lab_down() {
  [ -n "${LAB:-}" ] || return 0
  if [ -f "$LAB_DIR/pids" ]; then
    local pid rest
    while read -r pid rest; do kill -TERM "$pid" 2>/dev/null || true; done <"$LAB_DIR/pids"
    sleep 0.3
    while read -r pid rest; do kill -KILL "$pid" 2>/dev/null || true; done <"$LAB_DIR/pids"
  fi
  local ns
  for ns in $(ip netns list | awk '{print $1}' | grep "^$LAB-" || true); do
    # Processes still inside (echo servers started by hand) would keep the namespace alive.
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "$LAB_DIR"
}

# --- neighbour table safety -----------------------------------------------------------------
# The kernel's neighbour table limit (net.ipv4.neigh.default.gc_thresh3, 1024 by default) is
# one count for every network namespace of the machine. Peer probes to thousands of addresses
# that nobody answers (a benchmark's made-up peers), or from 50 node namespaces to each other,
# would fill it with entries and starve the host's own ARP. Permanent entries do not count
# against the limit, so the labs that need many pin theirs (inside their own namespaces only).

# lab_pin_neighbours NS DEV FIRST_IP COUNT [MAC]: permanent entries on DEV in NS for COUNT
# consecutive IPv4 addresses from FIRST_IP, all resolving to MAC (a locally administered address
# nobody has: the frames go nowhere, as they would to a dark peer).
lab_pin_neighbours() {
  local ns=$1 dev=$2 first=$3 count=$4 mac=${5:-02:00:5e:00:77:01}
  awk -v f="$first" -v n="$count" -v mac="$mac" -v dev="$dev" 'BEGIN {
      split(f, o, "."); v = ((o[1] * 256 + o[2]) * 256 + o[3]) * 256 + o[4]
      for (i = 0; i < n; i++) {
        x = v + i
        printf "neigh replace %d.%d.%d.%d lladdr %s dev %s nud permanent\n", int(x / 16777216) % 256, int(x / 65536) % 256, int(x / 256) % 256, x % 256, mac, dev
      }
    }' | ip -n "$ns" -batch -
}

# lab_pin_node_neighbours N: on nodes 1..N, a permanent entry for every other node's IPv4
# address with that node's real MAC (probes still reach each other; nothing is counted).
lab_pin_node_neighbours() {
  local n=$1 i j batch
  batch=$(for j in $(seq 1 "$n"); do
    echo "neigh replace $(lab_node_ip "$j") lladdr $(ip -n "$(lab_node_ns "$j")" -j link show eth0 | jq -r '.[0].address') dev eth0 nud permanent"
  done)
  for i in $(seq 1 "$n"); do
    echo "$batch" | grep -v " $(lab_node_ip "$i") " | ip -n "$(lab_node_ns "$i")" -batch -
  done
}
