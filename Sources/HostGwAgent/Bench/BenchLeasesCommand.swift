// `hostgw bench leases`: writes synthetic peer leases straight into the store, the way a joining
// node's agent would, and prints when each write committed. scripts/bench uses it to measure
// join convergence (commit -> route on every node) and startup with thousands of peers, without
// having to run thousands of agents. The leases are ordinary ones (flannel's JSON value, a TTL),
// so agents cannot tell them from real ones.
import ArgumentParser
import Foundation
import NetAddress
import Netlink
import SubnetLease

struct BenchLeasesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leases",
        abstract: "Write N synthetic peer leases into the store and print when each one committed (for scripts/bench).",
        discussion: """
            A tool for scripts/bench and labs, hidden from help: never point it at a real cluster's store.
            Subnets are taken from the top of the network's pool downwards (agents that join at the
            same time usually start elsewhere); a subnet already leased is skipped. Gateways count up
            from --first-gateway, one address per lease: they must be on-link for the nodes that will
            route to them. Prints one line per lease: `<commit unix ns> <start unix ns> <subnet> <gateway>`.
            """,
        shouldDisplay: false
    )

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "How many leases to write.")
    var count: Int

    @Option(help: ArgumentHelp("Gateway (PublicIP) of the first lease; the next ones count up from it.", valueName: "ip"))
    var firstGateway: String

    @Option(help: ArgumentHelp("Pause between two writes, in milliseconds (0: as fast as the store takes them).", valueName: "ms"))
    var intervalMs: Int = 0

    @Option(help: ArgumentHelp("Lease time to live, in seconds.", valueName: "seconds"))
    var ttl: Int = 86_400

    @Option(help: ArgumentHelp("NodeName of lease i is <prefix><i>.", valueName: "prefix"))
    var nodePrefix: String = "bench-peer-"

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1") }
        guard IPv4Address(firstGateway) != nil else { throw ValidationError("--first-gateway must be an IPv4 address, e.g. 10.77.0.150") }
        guard intervalMs >= 0 else { throw ValidationError("--interval-ms must be 0 or more") }
        guard ttl >= 10 else { throw ValidationError("--ttl must be at least 10 seconds") }
    }

    func run() async throws {
        let (s, _) = try storeOptions.settingsOrExit()
        guard let first = IPv4Address(firstGateway) else { throw ValidationError("--first-gateway must be an IPv4 address") }
        try await withStore(s, access: .readWrite) { store in
            let keys = LeaseKeys(prefix: s.prefix)
            let config = try await store.getConfig(keys: keys)
            guard config.enableIPv4, config.network != nil else {
                try fail("the network config has no IPv4 network; bench leases writes IPv4 leases only", code: ExitStatus.dataError)
            }
            let pool = config.poolSize(for: .v4)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            var written = 0
            var n = pool
            while written < count {
                guard n > 0 else {
                    try fail("the pool \(config.poolDescription(for: .v4)) ran out after \(written) of \(count) leases", code: ExitStatus.dataError)
                }
                n -= 1
                guard let subnet = config.poolSubnet(n, family: .v4) else { continue }
                let gateway = IPv4Address(first.value &+ UInt32(written))
                let attributes = LeaseAttributes(
                    publicIP: gateway, backendType: config.backendType, nodeName: "\(nodePrefix)\(written)", agentVersion: "bench")
                let start = Date()
                let created = try await store.create(
                    key: keys.key(subnet: subnet, ipv6Subnet: nil), value: try encoder.encode(attributes), ttl: .seconds(ttl))
                let committed = Date()
                guard created != nil else { continue }  // someone holds this subnet: take the next one
                // Unbuffered: the script reads each line while the next writes are still running.
                FileHandle.standardOutput.write(Data("\(Self.nanoseconds(committed)) \(Self.nanoseconds(start)) \(subnet) \(gateway)\n".utf8))
                written += 1
                if intervalMs > 0 && written < count { try await Task.sleep(for: .milliseconds(intervalMs)) }
            }
        }
    }

    static func nanoseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1e9).rounded()) }
}
