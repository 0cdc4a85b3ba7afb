#!/usr/bin/env bash
# The daemon under a service manager: sd_notify READY/STATUS/WATCHDOG/STOPPING on a real
# NOTIFY_SOCKET, SIGTERM stops it with exit 0 and leaves routes in place, and bad settings exit
# 64/78 naming the setting, with nothing written.
source "$(dirname "$0")/common.sh"
e2e_lab
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
NOTIFY_SOCKET=$sock WATCHDOG_USEC=1000000 lab_agent_start 1
lab_wait_ready 1
has_line() { grep -q "$1" "$LAB_DIR/notify.log"; }
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
check "bad flag, environment, config file and NAT'd public IP: right exit codes, setting named, nothing written"
echo PASS
