import ArgumentParser
import Foundation

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "A monitoring check (Nagios/Icinga exit codes) for route drift, peers, lease and store.",
        discussion: """
            Prints one line, `HOSTGW <STATE> - <summary> | <perfdata>`, and exits 0 OK, 1 WARNING, \
            2 CRITICAL or 3 UNKNOWN. CRITICAL: the agent is not running, the store is unreachable, the \
            agent is unhealthy (IP forwarding off included), no lease, or the lease expires within \
            --lease-critical. WARNING: drift events within --window, peers not ok, the lease expires \
            within --lease-warning, or a datapath warning (a forward-hook chain with policy drop, \
            bridge-nf-call-iptables or -ip6tables sending same-node pod traffic into such a chain, \
            strict rp_filter on the node interface where hostgw's routes are not the way back, \
            nftables or forwarding unreadable, iptables-legacy in use).
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var node: NodeQueryOptions

    @Option(help: ArgumentHelp("Look back this far for drift events.", valueName: "duration"))
    var window = "10m"
    @Option(help: ArgumentHelp("WARNING at this many drift events in the window (0 = never).", valueName: "n"))
    var driftWarning = 1
    @Option(help: ArgumentHelp("CRITICAL at this many drift events in the window (0 = never).", valueName: "n"))
    var driftCritical = 0
    @Option(help: ArgumentHelp("WARNING at this many peer routes not ok (0 = never).", valueName: "n"))
    var peersWarning = 1
    @Option(help: ArgumentHelp("CRITICAL at this many peer routes not ok (0 = never).", valueName: "n"))
    var peersCritical = 0
    @Option(help: ArgumentHelp("WARNING when the lease expires sooner than this.", valueName: "duration"))
    var leaseWarning = "1h"
    @Option(help: ArgumentHelp("CRITICAL when the lease expires sooner than this.", valueName: "duration"))
    var leaseCritical = "10m"

    func validate() throws {
        for (name, v) in [("--window", window), ("--lease-warning", leaseWarning), ("--lease-critical", leaseCritical)] where parseDuration(v) == nil {
            throw ValidationError("\(name) '\(v)' is not a duration such as 90s, 10m or 1h")
        }
        for (name, v) in [("--drift-warning", driftWarning), ("--drift-critical", driftCritical), ("--peers-warning", peersWarning), ("--peers-critical", peersCritical)] where v < 0 {
            throw ValidationError("\(name) must be 0 or more")
        }
    }

    func run() async throws {
        var t = CheckThresholds()
        t.window = parseDuration(window) ?? t.window
        t.leaseWarning = parseDuration(leaseWarning) ?? t.leaseWarning
        t.leaseCritical = parseDuration(leaseCritical) ?? t.leaseCritical
        t.driftWarning = driftWarning
        t.driftCritical = driftCritical
        t.badPeersWarning = peersWarning
        t.badPeersCritical = peersCritical
        let report = try await fetchReport(storeOptions, node)
        let result = evaluateCheck(report, t, now: Date())
        print(result.line)
        throw ExitCode(result.state.rawValue)
    }
}
