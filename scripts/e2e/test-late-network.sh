#!/usr/bin/env bash
# A node whose network is not up when the agent starts (no default route yet, as at boot before
# DHCP): the agent waits and says why (log line, sd_notify STATUS), is not ready, does not exit
# (78 would keep the unit stopped for good: RestartPreventExitStatus=64 78), and joins as soon as
# the default route appears.
source "$(dirname "$0")/common.sh"
e2e_lab
lab_switch_up
lab_node_add 1
lab_node_add 2
lab_store_up
lab_agent_start 2
lab_wait_ready 2

ns=$(lab_node_ns 1)
[ -z "$(ip -n "$ns" route show default)" ] || fail "node 1 has a default route before the test: $(ip -n "$ns" route show default)"
sock="$LAB_DIR/notify.sock"
socat -u "UNIX-RECV:$sock" STDOUT >"$LAB_DIR/notify.log" 2>/dev/null &
echo "$! notify-listener" >>"$LAB_DIR/pids"
lab_wait_for 5 test -S "$sock" || fail "notify socket listener did not start"
# No --iface: the interface is the one of the default route, which is not there yet.
NOTIFY_SOCKET=$sock LAB_AGENT_IFACE="" lab_agent_start 1
pid=$(lab_agent_pid 1)

has_status() { grep -q 'STATUS=cannot pick the interface.*no IPv4 default route' "$LAB_DIR/notify.log"; }
lab_wait_for 15 has_status || fail "no STATUS saying what the agent waits for: $(tr '\n' ' ' <"$LAB_DIR/notify.log")"
retries() { grep -c 'cannot pick the interface toward the other nodes.*retrying' "$LAB_DIR/n1/agent.log" || true; }
lab_wait_for 15 bash -c "[ \$(grep -c 'cannot pick the interface toward the other nodes.*retrying' '$LAB_DIR/n1/agent.log') -ge 3 ]" ||
  fail "the agent did not retry with log lines: $(tail -5 "$LAB_DIR/n1/agent.log")"
kill -0 "$pid" 2>/dev/null || fail "the agent exited while waiting for the network: $(tail -5 "$LAB_DIR/n1/agent.log")"
! lab_agent_ready 1 >/dev/null 2>&1 || fail "the agent says ready with no interface picked"
[ ! -e "$LAB_DIR/n1/subnet.env" ] || fail "a subnet file was written before the interface was picked"
! grep -q 'READY=1' "$LAB_DIR/notify.log" || fail "READY=1 sent with no interface picked"
check "no default route: the agent waits ($(retries) retries logged, STATUS set), not ready, nothing written, still running"

# The network comes up: a default route through eth0.
ip -n "$ns" route add default via "$LAB_STORE_IP" dev eth0
lab_wait_ready 1 30
kill -0 "$pid" 2>/dev/null || fail "the agent is not the one that waited"
lab_wait_for 5 grep -q 'READY=1' "$LAB_DIR/notify.log" || fail "no READY=1 after the network came up"
grep -q 'iface=eth0' "$LAB_DIR/n1/agent.log" || fail "the agent did not pick eth0: $(grep -m1 interface "$LAB_DIR/n1/agent.log")"
wait_routes_equal 1 2
wait_routes_equal 2 2
check "default route added: the same process picked eth0, became ready, routes on both nodes"
echo PASS
