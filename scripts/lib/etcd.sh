#!/usr/bin/env bash
# Throwaway etcd members on random loopback ports, for shell demos and manual tests.
# Never uses 2379/2380. Source it, then:
#   etcd_start [members]   # exports HGW_ETCD_ENDPOINTS (comma list) and HGW_ETCD_DIR
#   etcd_stop              # kills the members and removes the data dir
# Both are safe to call twice; etcd_stop is a good `trap ... EXIT` handler.

_hgw_free_port() {
    python3 - <<'PY'
import socket
while True:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
    if p not in (2379, 2380):
        print(p); break
PY
}

etcd_start() {
    local n="${1:-1}" i cluster="" token
    HGW_ETCD_DIR="$(mktemp -d /tmp/hgw-etcd-XXXXXX)"
    token="hgw-$(basename "$HGW_ETCD_DIR")"
    local -a clients peers
    for ((i = 0; i < n; i++)); do
        clients[i]="http://127.0.0.1:$(_hgw_free_port)"
        peers[i]="http://127.0.0.1:$(_hgw_free_port)"
        cluster+="${cluster:+,}m$i=${peers[i]}"
    done
    for ((i = 0; i < n; i++)); do
        etcd --name "m$i" --data-dir "$HGW_ETCD_DIR/m$i" \
            --listen-client-urls "${clients[i]}" --advertise-client-urls "${clients[i]}" \
            --listen-peer-urls "${peers[i]}" --initial-advertise-peer-urls "${peers[i]}" \
            --initial-cluster "$cluster" --initial-cluster-token "$token" --initial-cluster-state new \
            --log-level error --logger zap >"$HGW_ETCD_DIR/m$i.log" 2>&1 &
        echo $! >>"$HGW_ETCD_DIR/pids"
    done
    HGW_ETCD_ENDPOINTS="$(IFS=,; echo "${clients[*]}")"
    export HGW_ETCD_ENDPOINTS HGW_ETCD_DIR
    for ((i = 0; i < 100; i++)); do
        ETCDCTL_API=3 etcdctl --endpoints "$HGW_ETCD_ENDPOINTS" --command-timeout 1s endpoint health >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "etcd did not become healthy; logs in $HGW_ETCD_DIR" >&2
    return 1
}

etcd_stop() {
    [[ -n "${HGW_ETCD_DIR:-}" && -d "$HGW_ETCD_DIR" ]] || return 0
    if [[ -f "$HGW_ETCD_DIR/pids" ]]; then
        local pid
        while read -r pid; do kill "$pid" 2>/dev/null; done <"$HGW_ETCD_DIR/pids"
        while read -r pid; do wait "$pid" 2>/dev/null; done <"$HGW_ETCD_DIR/pids"
    fi
    rm -rf "$HGW_ETCD_DIR"
    unset HGW_ETCD_DIR HGW_ETCD_ENDPOINTS
}
