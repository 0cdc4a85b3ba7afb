function __hostgw_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __hostgw_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __hostgw_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __hostgw_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __hostgw_parse_tokens -S
    set -l unparsed_tokens (__hostgw_tokens -pc)
    switch $unparsed_tokens[1]
    case 'hostgw'
        __hostgw_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'run'
            __hostgw_parse_subcommand 0 'config=' 'store=' 'store-path=' 'etcd-endpoints=' 'etcd-prefix=' 'etcd-cafile=' 'etcd-certfile=' 'etcd-keyfile=' 'etcd-username=' 'etcd-password=' 'etcd-password-file=' 'etcd-allow-insecure-auth' 'etcd-timeout=' 'iface=' 'iface-regex=' 'iface-can-reach=' 'public-ip=' 'public-ipv6=' 'subnet-file=' 'cni-conflist=' 'state-dir=' 'lease-ttl=' 'mtu=' 'adopt-protocol=+' 'probe-port=' 'probe-interval=' 'probe-budget=' 'node-name=' 'listen=' 'observe-only' 'resync-period=' 'protocol=' 'table=' 'health-grace=' 'deletion-grace=' 'log-level=' 'log-format=' 'version' 'h/help'
        case 'status'
            __hostgw_parse_subcommand 0 'config=' 'store=' 'store-path=' 'etcd-endpoints=' 'etcd-prefix=' 'etcd-cafile=' 'etcd-certfile=' 'etcd-keyfile=' 'etcd-username=' 'etcd-password=' 'etcd-password-file=' 'etcd-allow-insecure-auth' 'etcd-timeout=' 'node-name=' 'listen=' 'protocol=' 'table=' 'state-dir=' 'json' 'cluster' 'version' 'h/help'
        case 'check'
            __hostgw_parse_subcommand 0 'config=' 'store=' 'store-path=' 'etcd-endpoints=' 'etcd-prefix=' 'etcd-cafile=' 'etcd-certfile=' 'etcd-keyfile=' 'etcd-username=' 'etcd-password=' 'etcd-password-file=' 'etcd-allow-insecure-auth' 'etcd-timeout=' 'node-name=' 'listen=' 'protocol=' 'table=' 'state-dir=' 'window=' 'drift-warning=' 'drift-critical=' 'peers-warning=' 'peers-critical=' 'lease-warning=' 'lease-critical=' 'version' 'h/help'
        case 'leases'
            __hostgw_parse_subcommand 0 'config=' 'store=' 'store-path=' 'etcd-endpoints=' 'etcd-prefix=' 'etcd-cafile=' 'etcd-certfile=' 'etcd-keyfile=' 'etcd-username=' 'etcd-password=' 'etcd-password-file=' 'etcd-allow-insecure-auth' 'etcd-timeout=' 'json' 'version' 'h/help'
        case 'config'
            __hostgw_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'show'
                __hostgw_parse_subcommand 0 'config=' 'store=' 'store-path=' 'etcd-endpoints=' 'etcd-prefix=' 'etcd-cafile=' 'etcd-certfile=' 'etcd-keyfile=' 'etcd-username=' 'etcd-password=' 'etcd-password-file=' 'etcd-allow-insecure-auth' 'etcd-timeout=' 'version' 'h/help'
            case 'set'
                __hostgw_parse_subcommand 1 'config=' 'store=' 'store-path=' 'etcd-endpoints=' 'etcd-prefix=' 'etcd-cafile=' 'etcd-certfile=' 'etcd-keyfile=' 'etcd-username=' 'etcd-password=' 'etcd-password-file=' 'etcd-allow-insecure-auth' 'etcd-timeout=' 'version' 'h/help'
            end
        case 'leave'
            __hostgw_parse_subcommand 0 'config=' 'store=' 'store-path=' 'etcd-endpoints=' 'etcd-prefix=' 'etcd-cafile=' 'etcd-certfile=' 'etcd-keyfile=' 'etcd-username=' 'etcd-password=' 'etcd-password-file=' 'etcd-allow-insecure-auth' 'etcd-timeout=' 'node-name=' 'listen=' 'protocol=' 'table=' 'state-dir=' 'version' 'h/help'
        case 'routes'
            __hostgw_parse_subcommand 0 'config=' 'store=' 'store-path=' 'etcd-endpoints=' 'etcd-prefix=' 'etcd-cafile=' 'etcd-certfile=' 'etcd-keyfile=' 'etcd-username=' 'etcd-password=' 'etcd-password-file=' 'etcd-allow-insecure-auth' 'etcd-timeout=' 'for-external' 'format=' 'external-ip=' 'external-iface=' 'include-unreachable' 'aggregate' 'interface=' 'protocol=' 'version' 'h/help'
        case 'external-sync'
            __hostgw_parse_subcommand 0 'config=' 'store=' 'store-path=' 'etcd-endpoints=' 'etcd-prefix=' 'etcd-cafile=' 'etcd-certfile=' 'etcd-keyfile=' 'etcd-username=' 'etcd-password=' 'etcd-password-file=' 'etcd-allow-insecure-auth' 'etcd-timeout=' 'node-name=' 'listen=' 'observe-only' 'resync-period=' 'protocol=' 'table=' 'health-grace=' 'deletion-grace=' 'log-level=' 'log-format=' 'version' 'h/help'
        case 'version'
            __hostgw_parse_subcommand 0 'version' 'h/help'
        case 'bench'
            __hostgw_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'netlink'
                __hostgw_parse_subcommand 0 'routes=' 'batch=' 'runs=' 'statistic=' 'reference-dir=' 'version' 'h/help'
            end
        case 'help'
            __hostgw_parse_subcommand -r 1 'version'
        end
    end
end

function __hostgw_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __hostgw_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __hostgw_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __hostgw_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__hostgw_tokens -p)
    if test -z "$(__hostgw_tokens -t)"
        set -l index (count (__hostgw_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'hostgw' -f
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw" version' -l 'version' -d 'Show the version.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_positional "hostgw" -eq 1' -fa 'run' -d 'Run the agent: lease a subnet, route to every peer, repair drift, serve health and metrics.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_positional "hostgw" -eq 1' -fa 'status' -d 'What this node leased, the store\'s health, every peer and its route state, recent drift.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_positional "hostgw" -eq 1' -fa 'check' -d 'A monitoring check (Nagios/Icinga exit codes) for route drift, peers, lease and store.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_positional "hostgw" -eq 1' -fa 'leases' -d 'List every lease in the store: subnet, node, public IP, expiry, reservation.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_positional "hostgw" -eq 1' -fa 'config' -d 'Show or set the cluster\'s network config (flannel\'s net-conf.json) in the store.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_positional "hostgw" -eq 1' -fa 'leave' -d 'Decommission this node: delete its hostgw routes and release its lease.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_positional "hostgw" -eq 1' -fa 'routes' -d 'Print the routes a host outside the cluster needs to reach every node\'s pods.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_positional "hostgw" -eq 1' -fa 'external-sync' -d 'Keep this external host\'s routes to every node\'s pod subnet equal to the leases.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_positional "hostgw" -eq 1' -fa 'version' -d 'Print the hostgw version.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_positional "hostgw" -eq 1' -fa 'bench' -d 'Benchmarks that print figures beside anchors measured in the same run.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_positional "hostgw" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" config' -l 'config' -d 'Config file (JSON object keyed by flag name). Env HOSTGW_CONFIG.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" store' -l 'store' -d 'Store backend: embedded (a SQLite file, the default) or etcd. Env HOSTGW_STORE.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" store-path' -l 'store-path' -d 'SQLite file of the embedded store. Default /var/lib/hostgw/store.db.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" etcd-endpoints' -l 'etcd-endpoints' -d 'Comma-separated etcd client URLs, tried in order on failure.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" etcd-prefix' -l 'etcd-prefix' -d 'Key prefix in the store. Default /coreos.com/network (flannel\'s).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" etcd-cafile' -l 'etcd-cafile' -d 'CA bundle that signs the etcd servers\' certificates.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" etcd-certfile' -l 'etcd-certfile' -d 'Client certificate for etcd (with --etcd-keyfile).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" etcd-keyfile' -l 'etcd-keyfile' -d 'Client key for etcd (with --etcd-certfile).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" etcd-username' -l 'etcd-username' -d 'etcd user name (with --etcd-password).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" etcd-password' -l 'etcd-password' -d 'etcd password. Visible in `ps`: prefer --etcd-password-file.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" etcd-password-file' -l 'etcd-password-file' -d 'File holding the etcd password (one line; a trailing newline is ignored). Keep it mode 0600.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" etcd-allow-insecure-auth' -l 'etcd-allow-insecure-auth' -d 'Allow a user name and password over http:// endpoints, where anyone on the path can read them.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" etcd-timeout' -l 'etcd-timeout' -d 'Timeout of one etcd request. Default 5s.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" iface' -l 'iface' -d 'Interface toward the other nodes, by name or by one of its IPs. Default: the interface of the default route.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" iface-regex' -l 'iface-regex' -d 'Pick the first interface whose name or IP matches this regular expression.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" iface-can-reach' -l 'iface-can-reach' -d 'Pick the interface with a connected network containing this address.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" public-ip' -l 'public-ip' -d 'IPv4 address other nodes route through. Must be on the interface (host-gw cannot work through NAT).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" public-ipv6' -l 'public-ipv6' -d 'IPv6 address other nodes route through (dual-stack networks).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" subnet-file' -l 'subnet-file' -d 'flannel-compatible subnet file for CNI. Default /run/flannel/subnet.env.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" cni-conflist' -l 'cni-conflist' -d 'Also write a CNI conflist (bridge + host-local, ipMasq false) for the leased subnet here.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" state-dir' -l 'state-dir' -d 'The agent\'s state directory (remembered subnet, lease holder id). Default /var/lib/hostgw.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" lease-ttl' -l 'lease-ttl' -d 'Lease time to live. Default 24h.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" mtu' -l 'mtu' -d 'MTU written to subnet.env and the conflist. Default: the interface\'s MTU.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run"' -l 'adopt-protocol' -d 'Take over routes of this protocol (boot, static or a number; repeatable) that equal hostgw\'s in all but the protocol, replacing each in place: migrating from flanneld is `--adopt-protocol boot`. Default: adopt nothing (they are conflicts).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" probe-port' -l 'probe-port' -d 'UDP port every agent answers peer probes on and probes its peers at (the same on every node; let it through between nodes). 0: no probes, reachability from neighbour entries only. Default 8477.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" probe-interval' -l 'probe-interval' -d 'How often each peer is probed (node IP, and pod gateway through the pod route), with jitter; a path that lost a probe is retried every 0.4s. Default 2s.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" probe-budget' -l 'probe-budget' -d 'At most this many probes per second from this node, however many peers: beyond it peers are probed in rotation (unreachable ones first). Default 200.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" node-name' -l 'node-name' -d 'The node\'s name (what its lease carries). Default: the hostname.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" listen' -l 'listen' -d 'The agent\'s loopback address for /healthz, /readyz, /metrics, /status. Default 127.0.0.1:9447.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" observe-only' -l 'observe-only' -d 'Report drift but change no route.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" resync-period' -l 'resync-period' -d 'Full resync period, a safety net behind the event triggers. Default 30s.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" protocol' -l 'protocol' -d 'rtm_protocol marking hostgw\'s routes (5-255). Default 77 (`hostgw` in rt_protos.d).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" table' -l 'table' -d 'Routing table for peer routes. Default 254 (main).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" health-grace' -l 'health-grace' -d 'How long the store may be unreachable, or the lease watch failing, before /healthz fails. Default 60s.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" deletion-grace' -l 'deletion-grace' -d 'When one snapshot would delete more than half of the peer routes (at least two), keep them this long while the nodes re-claim their leases. Default 10s.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" log-level' -l 'log-level' -d 'trace, debug, info, notice, warning, error or critical. Default info.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" log-format' -l 'log-format' -d 'text or json (one object per line). Default text.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" version' -l 'version' -d 'Show the version.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw run" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw status" config' -l 'config' -d 'Config file (JSON object keyed by flag name). Env HOSTGW_CONFIG.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw status" store' -l 'store' -d 'Store backend: embedded (a SQLite file, the default) or etcd. Env HOSTGW_STORE.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw status" store-path' -l 'store-path' -d 'SQLite file of the embedded store. Default /var/lib/hostgw/store.db.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw status" etcd-endpoints' -l 'etcd-endpoints' -d 'Comma-separated etcd client URLs, tried in order on failure.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw status" etcd-prefix' -l 'etcd-prefix' -d 'Key prefix in the store. Default /coreos.com/network (flannel\'s).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw status" etcd-cafile' -l 'etcd-cafile' -d 'CA bundle that signs the etcd servers\' certificates.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw status" etcd-certfile' -l 'etcd-certfile' -d 'Client certificate for etcd (with --etcd-keyfile).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw status" etcd-keyfile' -l 'etcd-keyfile' -d 'Client key for etcd (with --etcd-certfile).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw status" etcd-username' -l 'etcd-username' -d 'etcd user name (with --etcd-password).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw status" etcd-password' -l 'etcd-password' -d 'etcd password. Visible in `ps`: prefer --etcd-password-file.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw status" etcd-password-file' -l 'etcd-password-file' -d 'File holding the etcd password (one line; a trailing newline is ignored). Keep it mode 0600.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw status" etcd-allow-insecure-auth' -l 'etcd-allow-insecure-auth' -d 'Allow a user name and password over http:// endpoints, where anyone on the path can read them.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw status" etcd-timeout' -l 'etcd-timeout' -d 'Timeout of one etcd request. Default 5s.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw status" node-name' -l 'node-name' -d 'The node\'s name (what its lease carries). Default: the hostname.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw status" listen' -l 'listen' -d 'The agent\'s loopback address for /healthz, /readyz, /metrics, /status. Default 127.0.0.1:9447.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw status" protocol' -l 'protocol' -d 'rtm_protocol marking hostgw\'s routes (5-255). Default 77 (`hostgw` in rt_protos.d).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw status" table' -l 'table' -d 'Routing table for peer routes. Default 254 (main).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw status" state-dir' -l 'state-dir' -d 'The agent\'s state directory (remembered subnet, lease holder id). Default /var/lib/hostgw.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw status" json' -l 'json' -d 'Print the status document as JSON (field names are stable).'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw status" cluster' -l 'cluster' -d 'Every node of the cluster: subnet, IPs, agent version, MTU, published conditions, this node\'s route to it and whether this node reaches it.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw status" version' -l 'version' -d 'Show the version.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw status" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw check" config' -l 'config' -d 'Config file (JSON object keyed by flag name). Env HOSTGW_CONFIG.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw check" store' -l 'store' -d 'Store backend: embedded (a SQLite file, the default) or etcd. Env HOSTGW_STORE.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw check" store-path' -l 'store-path' -d 'SQLite file of the embedded store. Default /var/lib/hostgw/store.db.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw check" etcd-endpoints' -l 'etcd-endpoints' -d 'Comma-separated etcd client URLs, tried in order on failure.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw check" etcd-prefix' -l 'etcd-prefix' -d 'Key prefix in the store. Default /coreos.com/network (flannel\'s).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw check" etcd-cafile' -l 'etcd-cafile' -d 'CA bundle that signs the etcd servers\' certificates.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw check" etcd-certfile' -l 'etcd-certfile' -d 'Client certificate for etcd (with --etcd-keyfile).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw check" etcd-keyfile' -l 'etcd-keyfile' -d 'Client key for etcd (with --etcd-certfile).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw check" etcd-username' -l 'etcd-username' -d 'etcd user name (with --etcd-password).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw check" etcd-password' -l 'etcd-password' -d 'etcd password. Visible in `ps`: prefer --etcd-password-file.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw check" etcd-password-file' -l 'etcd-password-file' -d 'File holding the etcd password (one line; a trailing newline is ignored). Keep it mode 0600.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw check" etcd-allow-insecure-auth' -l 'etcd-allow-insecure-auth' -d 'Allow a user name and password over http:// endpoints, where anyone on the path can read them.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw check" etcd-timeout' -l 'etcd-timeout' -d 'Timeout of one etcd request. Default 5s.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw check" node-name' -l 'node-name' -d 'The node\'s name (what its lease carries). Default: the hostname.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw check" listen' -l 'listen' -d 'The agent\'s loopback address for /healthz, /readyz, /metrics, /status. Default 127.0.0.1:9447.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw check" protocol' -l 'protocol' -d 'rtm_protocol marking hostgw\'s routes (5-255). Default 77 (`hostgw` in rt_protos.d).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw check" table' -l 'table' -d 'Routing table for peer routes. Default 254 (main).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw check" state-dir' -l 'state-dir' -d 'The agent\'s state directory (remembered subnet, lease holder id). Default /var/lib/hostgw.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw check" window' -l 'window' -d 'Look back this far for drift events.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw check" drift-warning' -l 'drift-warning' -d 'WARNING at this many drift events in the window (0 = never).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw check" drift-critical' -l 'drift-critical' -d 'CRITICAL at this many drift events in the window (0 = never).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw check" peers-warning' -l 'peers-warning' -d 'WARNING at this many peer routes not ok (0 = never).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw check" peers-critical' -l 'peers-critical' -d 'CRITICAL at this many peer routes not ok (0 = never).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw check" lease-warning' -l 'lease-warning' -d 'WARNING when the lease expires sooner than this.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw check" lease-critical' -l 'lease-critical' -d 'CRITICAL when the lease expires sooner than this.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw check" version' -l 'version' -d 'Show the version.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw check" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leases" config' -l 'config' -d 'Config file (JSON object keyed by flag name). Env HOSTGW_CONFIG.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leases" store' -l 'store' -d 'Store backend: embedded (a SQLite file, the default) or etcd. Env HOSTGW_STORE.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leases" store-path' -l 'store-path' -d 'SQLite file of the embedded store. Default /var/lib/hostgw/store.db.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leases" etcd-endpoints' -l 'etcd-endpoints' -d 'Comma-separated etcd client URLs, tried in order on failure.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leases" etcd-prefix' -l 'etcd-prefix' -d 'Key prefix in the store. Default /coreos.com/network (flannel\'s).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leases" etcd-cafile' -l 'etcd-cafile' -d 'CA bundle that signs the etcd servers\' certificates.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leases" etcd-certfile' -l 'etcd-certfile' -d 'Client certificate for etcd (with --etcd-keyfile).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leases" etcd-keyfile' -l 'etcd-keyfile' -d 'Client key for etcd (with --etcd-certfile).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leases" etcd-username' -l 'etcd-username' -d 'etcd user name (with --etcd-password).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leases" etcd-password' -l 'etcd-password' -d 'etcd password. Visible in `ps`: prefer --etcd-password-file.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leases" etcd-password-file' -l 'etcd-password-file' -d 'File holding the etcd password (one line; a trailing newline is ignored). Keep it mode 0600.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leases" etcd-allow-insecure-auth' -l 'etcd-allow-insecure-auth' -d 'Allow a user name and password over http:// endpoints, where anyone on the path can read them.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leases" etcd-timeout' -l 'etcd-timeout' -d 'Timeout of one etcd request. Default 5s.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leases" json' -l 'json' -d 'Print JSON instead of a table.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leases" version' -l 'version' -d 'Show the version.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leases" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config" version' -l 'version' -d 'Show the version.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_positional "hostgw config" -eq 1' -fa 'show' -d 'Print the stored network config as JSON, with defaults filled in.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_positional "hostgw config" -eq 1' -fa 'set' -d 'Validate a net-conf.json file and, only if it is valid, write it to the store.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config show" config' -l 'config' -d 'Config file (JSON object keyed by flag name). Env HOSTGW_CONFIG.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config show" store' -l 'store' -d 'Store backend: embedded (a SQLite file, the default) or etcd. Env HOSTGW_STORE.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config show" store-path' -l 'store-path' -d 'SQLite file of the embedded store. Default /var/lib/hostgw/store.db.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config show" etcd-endpoints' -l 'etcd-endpoints' -d 'Comma-separated etcd client URLs, tried in order on failure.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config show" etcd-prefix' -l 'etcd-prefix' -d 'Key prefix in the store. Default /coreos.com/network (flannel\'s).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config show" etcd-cafile' -l 'etcd-cafile' -d 'CA bundle that signs the etcd servers\' certificates.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config show" etcd-certfile' -l 'etcd-certfile' -d 'Client certificate for etcd (with --etcd-keyfile).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config show" etcd-keyfile' -l 'etcd-keyfile' -d 'Client key for etcd (with --etcd-certfile).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config show" etcd-username' -l 'etcd-username' -d 'etcd user name (with --etcd-password).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config show" etcd-password' -l 'etcd-password' -d 'etcd password. Visible in `ps`: prefer --etcd-password-file.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config show" etcd-password-file' -l 'etcd-password-file' -d 'File holding the etcd password (one line; a trailing newline is ignored). Keep it mode 0600.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config show" etcd-allow-insecure-auth' -l 'etcd-allow-insecure-auth' -d 'Allow a user name and password over http:// endpoints, where anyone on the path can read them.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config show" etcd-timeout' -l 'etcd-timeout' -d 'Timeout of one etcd request. Default 5s.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config show" version' -l 'version' -d 'Show the version.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config show" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config set" config' -l 'config' -d 'Config file (JSON object keyed by flag name). Env HOSTGW_CONFIG.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config set" store' -l 'store' -d 'Store backend: embedded (a SQLite file, the default) or etcd. Env HOSTGW_STORE.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config set" store-path' -l 'store-path' -d 'SQLite file of the embedded store. Default /var/lib/hostgw/store.db.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config set" etcd-endpoints' -l 'etcd-endpoints' -d 'Comma-separated etcd client URLs, tried in order on failure.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config set" etcd-prefix' -l 'etcd-prefix' -d 'Key prefix in the store. Default /coreos.com/network (flannel\'s).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config set" etcd-cafile' -l 'etcd-cafile' -d 'CA bundle that signs the etcd servers\' certificates.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config set" etcd-certfile' -l 'etcd-certfile' -d 'Client certificate for etcd (with --etcd-keyfile).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config set" etcd-keyfile' -l 'etcd-keyfile' -d 'Client key for etcd (with --etcd-certfile).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config set" etcd-username' -l 'etcd-username' -d 'etcd user name (with --etcd-password).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config set" etcd-password' -l 'etcd-password' -d 'etcd password. Visible in `ps`: prefer --etcd-password-file.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config set" etcd-password-file' -l 'etcd-password-file' -d 'File holding the etcd password (one line; a trailing newline is ignored). Keep it mode 0600.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config set" etcd-allow-insecure-auth' -l 'etcd-allow-insecure-auth' -d 'Allow a user name and password over http:// endpoints, where anyone on the path can read them.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config set" etcd-timeout' -l 'etcd-timeout' -d 'Timeout of one etcd request. Default 5s.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config set" version' -l 'version' -d 'Show the version.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw config set" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leave" config' -l 'config' -d 'Config file (JSON object keyed by flag name). Env HOSTGW_CONFIG.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leave" store' -l 'store' -d 'Store backend: embedded (a SQLite file, the default) or etcd. Env HOSTGW_STORE.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leave" store-path' -l 'store-path' -d 'SQLite file of the embedded store. Default /var/lib/hostgw/store.db.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leave" etcd-endpoints' -l 'etcd-endpoints' -d 'Comma-separated etcd client URLs, tried in order on failure.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leave" etcd-prefix' -l 'etcd-prefix' -d 'Key prefix in the store. Default /coreos.com/network (flannel\'s).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leave" etcd-cafile' -l 'etcd-cafile' -d 'CA bundle that signs the etcd servers\' certificates.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leave" etcd-certfile' -l 'etcd-certfile' -d 'Client certificate for etcd (with --etcd-keyfile).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leave" etcd-keyfile' -l 'etcd-keyfile' -d 'Client key for etcd (with --etcd-certfile).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leave" etcd-username' -l 'etcd-username' -d 'etcd user name (with --etcd-password).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leave" etcd-password' -l 'etcd-password' -d 'etcd password. Visible in `ps`: prefer --etcd-password-file.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leave" etcd-password-file' -l 'etcd-password-file' -d 'File holding the etcd password (one line; a trailing newline is ignored). Keep it mode 0600.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leave" etcd-allow-insecure-auth' -l 'etcd-allow-insecure-auth' -d 'Allow a user name and password over http:// endpoints, where anyone on the path can read them.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leave" etcd-timeout' -l 'etcd-timeout' -d 'Timeout of one etcd request. Default 5s.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leave" node-name' -l 'node-name' -d 'The node\'s name (what its lease carries). Default: the hostname.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leave" listen' -l 'listen' -d 'The agent\'s loopback address for /healthz, /readyz, /metrics, /status. Default 127.0.0.1:9447.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leave" protocol' -l 'protocol' -d 'rtm_protocol marking hostgw\'s routes (5-255). Default 77 (`hostgw` in rt_protos.d).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leave" table' -l 'table' -d 'Routing table for peer routes. Default 254 (main).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leave" state-dir' -l 'state-dir' -d 'The agent\'s state directory (remembered subnet, lease holder id). Default /var/lib/hostgw.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leave" version' -l 'version' -d 'Show the version.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw leave" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw routes" config' -l 'config' -d 'Config file (JSON object keyed by flag name). Env HOSTGW_CONFIG.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw routes" store' -l 'store' -d 'Store backend: embedded (a SQLite file, the default) or etcd. Env HOSTGW_STORE.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw routes" store-path' -l 'store-path' -d 'SQLite file of the embedded store. Default /var/lib/hostgw/store.db.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw routes" etcd-endpoints' -l 'etcd-endpoints' -d 'Comma-separated etcd client URLs, tried in order on failure.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw routes" etcd-prefix' -l 'etcd-prefix' -d 'Key prefix in the store. Default /coreos.com/network (flannel\'s).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw routes" etcd-cafile' -l 'etcd-cafile' -d 'CA bundle that signs the etcd servers\' certificates.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw routes" etcd-certfile' -l 'etcd-certfile' -d 'Client certificate for etcd (with --etcd-keyfile).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw routes" etcd-keyfile' -l 'etcd-keyfile' -d 'Client key for etcd (with --etcd-certfile).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw routes" etcd-username' -l 'etcd-username' -d 'etcd user name (with --etcd-password).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw routes" etcd-password' -l 'etcd-password' -d 'etcd password. Visible in `ps`: prefer --etcd-password-file.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw routes" etcd-password-file' -l 'etcd-password-file' -d 'File holding the etcd password (one line; a trailing newline is ignored). Keep it mode 0600.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw routes" etcd-allow-insecure-auth' -l 'etcd-allow-insecure-auth' -d 'Allow a user name and password over http:// endpoints, where anyone on the path can read them.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw routes" etcd-timeout' -l 'etcd-timeout' -d 'Timeout of one etcd request. Default 5s.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw routes" for-external' -l 'for-external' -d 'Routes for a host outside the cluster (required: this node\'s own routes are in `hostgw status`).'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw routes" format' -l 'format' -d 'Output format: ip, ip-batch, networkd, netplan, ansible, json.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw routes" external-ip' -l 'external-ip' -d 'The external host\'s address and prefix length (ADDR/LEN): nodes not on-link from it are left out, with a warning.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw routes" external-iface' -l 'external-iface' -d 'Like --external-ip, with the addresses of this local interface (run on the external host).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw routes" include-unreachable' -l 'include-unreachable' -d 'Keep routes via nodes that are not on-link from the external host.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw routes" aggregate' -l 'aggregate' -d 'Print one covering route per family when every subnet shares one gateway (a router).'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw routes" interface' -l 'interface' -d 'Interface name for the netplan format.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw routes" protocol' -l 'protocol' -d 'Route protocol on ip/ip-batch routes, so the host can list and flush them. Default 77; 0 for none.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw routes" version' -l 'version' -d 'Show the version.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw routes" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw external-sync" config' -l 'config' -d 'Config file (JSON object keyed by flag name). Env HOSTGW_CONFIG.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw external-sync" store' -l 'store' -d 'Store backend: embedded (a SQLite file, the default) or etcd. Env HOSTGW_STORE.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw external-sync" store-path' -l 'store-path' -d 'SQLite file of the embedded store. Default /var/lib/hostgw/store.db.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw external-sync" etcd-endpoints' -l 'etcd-endpoints' -d 'Comma-separated etcd client URLs, tried in order on failure.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw external-sync" etcd-prefix' -l 'etcd-prefix' -d 'Key prefix in the store. Default /coreos.com/network (flannel\'s).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw external-sync" etcd-cafile' -l 'etcd-cafile' -d 'CA bundle that signs the etcd servers\' certificates.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw external-sync" etcd-certfile' -l 'etcd-certfile' -d 'Client certificate for etcd (with --etcd-keyfile).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw external-sync" etcd-keyfile' -l 'etcd-keyfile' -d 'Client key for etcd (with --etcd-certfile).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw external-sync" etcd-username' -l 'etcd-username' -d 'etcd user name (with --etcd-password).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw external-sync" etcd-password' -l 'etcd-password' -d 'etcd password. Visible in `ps`: prefer --etcd-password-file.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw external-sync" etcd-password-file' -l 'etcd-password-file' -d 'File holding the etcd password (one line; a trailing newline is ignored). Keep it mode 0600.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw external-sync" etcd-allow-insecure-auth' -l 'etcd-allow-insecure-auth' -d 'Allow a user name and password over http:// endpoints, where anyone on the path can read them.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw external-sync" etcd-timeout' -l 'etcd-timeout' -d 'Timeout of one etcd request. Default 5s.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw external-sync" node-name' -l 'node-name' -d 'The node\'s name (what its lease carries). Default: the hostname.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw external-sync" listen' -l 'listen' -d 'The agent\'s loopback address for /healthz, /readyz, /metrics, /status. Default 127.0.0.1:9447.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw external-sync" observe-only' -l 'observe-only' -d 'Report drift but change no route.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw external-sync" resync-period' -l 'resync-period' -d 'Full resync period, a safety net behind the event triggers. Default 30s.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw external-sync" protocol' -l 'protocol' -d 'rtm_protocol marking hostgw\'s routes (5-255). Default 77 (`hostgw` in rt_protos.d).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw external-sync" table' -l 'table' -d 'Routing table for peer routes. Default 254 (main).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw external-sync" health-grace' -l 'health-grace' -d 'How long the store may be unreachable, or the lease watch failing, before /healthz fails. Default 60s.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw external-sync" deletion-grace' -l 'deletion-grace' -d 'When one snapshot would delete more than half of the peer routes (at least two), keep them this long while the nodes re-claim their leases. Default 10s.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw external-sync" log-level' -l 'log-level' -d 'trace, debug, info, notice, warning, error or critical. Default info.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw external-sync" log-format' -l 'log-format' -d 'text or json (one object per line). Default text.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw external-sync" version' -l 'version' -d 'Show the version.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw external-sync" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw version" version' -l 'version' -d 'Show the version.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw version" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw bench" version' -l 'version' -d 'Show the version.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw bench" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_positional "hostgw bench" -eq 1' -fa 'netlink' -d 'Time adding, replacing and deleting N routes: hostgw vs ip -batch vs the libmnl C reference.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw bench netlink" routes' -l 'routes' -d 'Number of /24 routes per phase (at most 47616).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw bench netlink" batch' -l 'batch' -d 'Requests per sendmsg for hostgw and the C reference.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw bench netlink" runs' -l 'runs' -d 'Measured rounds per tool and phase, after one warm-up round.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw bench netlink" statistic' -l 'statistic' -d 'Figure reported from the rounds: best (fastest round) or median.' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw bench netlink" reference-dir' -l 'reference-dir' -d 'Directory holding nlroutes.c (default: ../shared/bench, then the same path next to the repository).' -rfka ''
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw bench netlink" version' -l 'version' -d 'Show the version.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw bench netlink" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hostgw' -n '__hostgw_should_offer_completions_for_flags_or_options "hostgw help" version' -l 'version' -d 'Show the version.'
