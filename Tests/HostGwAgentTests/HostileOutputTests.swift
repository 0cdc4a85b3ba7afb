// A node name from the store holding newlines, ANSI escapes or 10 KB of text: the status table,
// the monitoring line and text log lines stay one line per item, with no terminal control.
import Foundation
import Logging
import NetAddress
import Netlink
import RouteSync
import Testing

@testable import HostGwAgent

@Suite struct HostileOutputTests {
    static let names = [
        "evil\nnode       forged-node (agent running)",
        "\u{1b}[2J\u{1b}[31mred\u{1b}[0m",
        String(repeating: "A", count: 10_240),
        "\u{202e}txet desrever\r\nHOSTGW OK - all fine",
    ]

    func report(node: String) -> NodeStatusReport {
        let peer = PeerStatus(
            leaseKey: "10.244.7.0-24", node: node, family: .v4, subnet: IPPrefix("10.244.7.0/24")!, gateway: IPAddress("10.0.0.7"),
            state: .missing, reason: "route to \(node) missing")
        let sync = RouteSyncStatus(
            observeOnly: false, peers: [peer], routesInstalled: 0, recentDrift: [], driftCounts: [:], peerCounts: [:], lastFullSync: nil,
            lastPassDurationSeconds: nil, lastPassError: nil, passes: 1)
        return NodeStatusReport(
            generatedAt: Date(), node: node, agentRunning: true, agentVersion: "1", interface: "eth0", publicIP: "10.0.0.1", publicIPv6: nil,
            lease: nil, store: .init(backend: "embedded /x", reachable: false, lastError: "bad key \(node)"), ready: true, healthProblems: [],
            routeSync: sync, notes: ["peer \(node) says hi"])
    }

    func assertClean(_ text: String, maxLine: Int, _ comment: Comment? = nil) {
        #expect(!text.unicodeScalars.contains { $0.value == 0x1b || $0 == "\r" || $0.value == 0x202e }, comment)
        for line in text.split(separator: "\n") { #expect(line.count <= maxLine, comment) }
        #expect(!text.contains("\nnode       forged") && !text.contains("\nHOSTGW OK"), comment)
    }

    @Test(arguments: names)
    func statusTableKeepsItsShape(_ name: String) {
        let plain = renderStatus(report(node: "node-a")).split(separator: "\n", omittingEmptySubsequences: false).count
        let text = renderStatus(report(node: name))
        #expect(text.split(separator: "\n", omittingEmptySubsequences: false).count == plain)
        assertClean(text, maxLine: 4200)
    }

    @Test(arguments: names)
    func checkLineIsOneLine(_ name: String) {
        var r = report(node: name)
        r.healthProblems = ["peer \(name) unhealthy"]
        let line = evaluateCheck(r, CheckThresholds(), now: Date()).line
        #expect(!line.contains("\n"))
        #expect(line.hasPrefix("HOSTGW CRITICAL - "))
        assertClean(line, maxLine: 2600)
    }

    @Test(arguments: names)
    func textLogLineIsOneLine(_ name: String) {
        let line = LineLogHandler.textLine(
            time: Date(), level: .warning, label: "hostgw", metadata: ["peer": "\(name)", "key": "/coreos.com/network/subnets/\(name)"],
            message: "skipping invalid store entry \(name)")
        #expect(!line.contains("\n"))
        assertClean(line, maxLine: 2000)
        #expect(line.contains(" warning hostgw: key="))
    }

    @Test(arguments: names)
    func jsonLogLineKeepsTheExactTextOnOneLine(_ name: String) throws {
        let line = try #require(LineLogHandler.jsonLine(time: Date(), level: .info, label: "hostgw", metadata: ["peer": "\(name)"], message: "m"))
        #expect(!line.contains("\n") && !line.unicodeScalars.contains { $0.value == 0x1b })
        let fields = try JSONDecoder().decode([String: String].self, from: Data(line.utf8))
        #expect(fields["peer"] == name)
    }

    @Test func leasesTableCellsAreEscaped() {
        let lines = table(["NODE", "IP"], Self.names.map { [$0, "10.0.0.1"] })
        #expect(lines.count == Self.names.count + 1)
        assertClean(lines.joined(separator: "\n"), maxLine: 400)
    }
}
