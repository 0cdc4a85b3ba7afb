#!/usr/bin/env bash
# The daemon under a service manager: sd_notify READY/STATUS/WATCHDOG/STOPPING on a real
# NOTIFY_SOCKET, SIGTERM stops it with exit 0 and leaves routes in place, and bad settings exit
# 64/78 naming the setting, with nothing written.
source "$(dirname "$0")/common.sh"
e2e_lab
LAB_STORE=etcd
lab_switch_up
lab_node_add 1
lab_node_add 2
lab_store_up
lab_agent_start 2
lab_wait_ready 2

sock="$LAB_DIR/notify.sock"
socat -u "UNIX-RECV:$sock" STDOUT >"$LAB_DIR/notify.log" 2>/dev/null &
echo "$! notify-listener" >>"$LAB_DIR/pids"
lab_wait_for 5 test -S "$sock" || fail "notify socket listener did not start"
# Started while the store is unreachable from node 1 (its packets to the store dropped inside
# node 1's namespace, so no reset either): waiting is not a failure, the agent extends systemd's
# start timeout and keeps pinging the watchdog, and only then READY=1.
has_line() { grep -q "$1" "$LAB_DIR/notify.log"; }
ns1=$(lab_node_ns 1)
ip netns exec "$ns1" iptables -A OUTPUT -d "$LAB_STORE_IP" -p tcp --dport 2379 -j DROP
NOTIFY_SOCKET=$sock WATCHDOG_USEC=1000000 lab_agent_start 1
lab_wait_for 60 has_line 'EXTEND_TIMEOUT_USEC=' || fail "no EXTEND_TIMEOUT_USEC while waiting for the store: $(head -c 600 "$LAB_DIR/notify.log")"
# Datagrams are not newline-separated in the log: count occurrences.
pings() { grep -o 'WATCHDOG=1' "$LAB_DIR/notify.log" | wc -l; }
pings_before=$(pings)
lab_wait_for 10 sh -c "[ \$(grep -o 'WATCHDOG=1' '$LAB_DIR/notify.log' | wc -l) -gt $pings_before ]" || fail "the watchdog is not pinged while the agent waits for the store"
! has_line 'READY=1' || fail "READY=1 while the store was unreachable"
check "store unreachable at start: EXTEND_TIMEOUT_USEC and WATCHDOG=1 on NOTIFY_SOCKET, no READY=1"
ip netns exec "$ns1" iptables -D OUTPUT -d "$LAB_STORE_IP" -p tcp --dport 2379 -j DROP
lab_wait_ready 1 60
lab_wait_for 5 has_line 'READY=1' || fail "no READY=1 on NOTIFY_SOCKET: $(cat "$LAB_DIR/notify.log")"
lab_wait_for 5 has_line 'STATUS=routing' || fail "no STATUS=routing... line"
lab_wait_for 5 has_line 'WATCHDOG=1' || fail "no WATCHDOG=1 ping with WATCHDOG_USEC set"
check "READY=1, STATUS=, WATCHDOG=1 received on NOTIFY_SOCKET"

wait_routes_equal 1 2
pid=$(lab_agent_pid 1)
kill -TERM "$pid"
lab_wait_for 10 bash -c "! kill -0 $pid 2>/dev/null" || fail "agent still running 10 s after SIGTERM"
set +e
wait "$pid"
code=$?
set -e
[ "$code" = 0 ] || fail "agent exited $code after SIGTERM, want 0"
lab_wait_for 5 has_line 'STOPPING=1' || fail "no STOPPING=1 on NOTIFY_SOCKET"
routes_match 1 2 || fail "routes changed on stop: [$(hostgw_routes 1 | tr '\n' ';')]"
check "SIGTERM: exit 0, STOPPING=1 sent, routes left in place"

# Bad settings: exit code, the setting named, and no subnet file written.
ns=$(lab_node_ns 1)
expect_exit() {
  local want=$1 pattern=$2
  shift 2
  rm -f "$LAB_DIR/bad.env"
  set +e
  out=$(timeout 20 "$@" --subnet-file "$LAB_DIR/bad.env" 2>&1)
  code=$?
  set -e
  [ "$code" = "$want" ] || fail "exit $code (want $want) for: $* — $out"
  echo "$out" | grep -q -- "$pattern" || fail "message does not name '$pattern': $out"
  [ ! -e "$LAB_DIR/bad.env" ] || fail "a subnet file was written despite the error: $*"
}
# shellcheck disable=SC2046
expect_exit 64 "lease-ttl" ip netns exec "$ns" "$HOSTGW_BIN" run $(lab_store_flags) --lease-ttl forever
# shellcheck disable=SC2046
expect_exit 64 "listen" ip netns exec "$ns" "$HOSTGW_BIN" run $(lab_store_flags) --listen 0.0.0.0:9447
# shellcheck disable=SC2046
expect_exit 78 "HOSTGW_RESYNC_PERIOD" ip netns exec "$ns" env HOSTGW_RESYNC_PERIOD=often "$HOSTGW_BIN" run $(lab_store_flags)
echo '{"etcd-endpoint": "http://x:2379"}' >"$LAB_DIR/bad-config.json"
# shellcheck disable=SC2046
expect_exit 78 "did you mean 'etcd-endpoints'" ip netns exec "$ns" "$HOSTGW_BIN" run $(lab_store_flags) --config "$LAB_DIR/bad-config.json"
# shellcheck disable=SC2046
expect_exit 78 "NAT" ip netns exec "$ns" "$HOSTGW_BIN" run $(lab_store_flags) --iface eth0 --public-ip 203.0.113.9 --listen 127.0.0.1:9448
expect_exit 64 "etcd-endpoints" ip netns exec "$ns" "$HOSTGW_BIN" run --store etcd
expect_exit 64 "store" ip netns exec "$ns" "$HOSTGW_BIN" run --store consul
# Without CAP_NET_ADMIN the agent refuses to start (exit 77) and says what it needs.
set +e
out=$(ip netns exec "$ns" setpriv --inh-caps=-net_admin --bounding-set=-net_admin "$HOSTGW_BIN" run $(lab_store_flags) --subnet-file "$LAB_DIR/bad.env" 2>&1)
code=$?
set -e
[ "$code" = 77 ] || fail "without CAP_NET_ADMIN: exit $code, want 77: $out"
echo "$out" | grep -q CAP_NET_ADMIN || fail "the refusal does not name CAP_NET_ADMIN: $out"
[ ! -e "$LAB_DIR/bad.env" ] || fail "a subnet file was written without CAP_NET_ADMIN"
check "bad flag, environment, config file and NAT'd public IP: right exit codes, setting named, nothing written"
echo PASS
