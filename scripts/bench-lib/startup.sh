# shellcheck shell=bash
# The 5,000-peer startup scenario, shared by scripts/bench (figure 4, and its ip -batch anchor)
# and scripts/gen-order-file (the profile the linker order comes from), so the profiled agent
# runs exactly what is measured.
# One node namespace (eth0 172.20.0.10/16, a veth whose peer stays inside), pod network
# 10.0.0.0/8 with SubnetLen 24, peers' gateways 172.20.1.1 upwards (on-link).

# startup_ns_up NS: the node namespace.
startup_ns_up() {
  local ns=$1
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip -n "$ns" link add eth0 type veth peer name eth0p
  ip -n "$ns" link set eth0p up
  ip -n "$ns" addr add 172.20.0.10/16 dev eth0
  ip -n "$ns" link set eth0 up
  # A node forwards pod traffic; without it /healthz is rightly 503 (forwarding off).
  ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
}

# startup_seed NS HOSTGW STORE_PATH PEERS LEASES_OUT: the network config and PEERS peer leases
# in an embedded store at STORE_PATH; the leases as written go to LEASES_OUT.
startup_seed() {
  local ns=$1 hostgw=$2 store=$3 peers=$4 out=$5
  local conf
  conf=$(dirname "$store")/net-conf.json
  echo '{"Network": "10.0.0.0/8", "SubnetLen": 24, "Backend": {"Type": "host-gw"}}' >"$conf"
  ip netns exec "$ns" "$hostgw" config set "$conf" --store embedded --store-path "$store" >/dev/null
  ip netns exec "$ns" "$hostgw" bench leases --store embedded --store-path "$store" \
    --count "$peers" --first-gateway 172.20.1.1 >"$out"
  # The agent probes its peers: made-up gateways nobody answers get permanent neighbour entries
  # (lab_pin_neighbours), or the machine's one neighbour table would fill.
  lab_pin_neighbours "$ns" eth0 172.20.1.1 "$peers"
}
