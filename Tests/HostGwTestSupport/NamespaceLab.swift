// The one network-namespace lab of the tests: a namespace of our own with loopback up and a veth
// pair, both ends up (the peer end stays inside, for carrier), the link end addressed, so
// gateways in its prefixes are on-link. Routes, links, addresses and sysctls change only inside
// it. Everything runs through `ip` child processes (`ip -n`, `ip netns exec`): no Swift thread
// ever changes namespace.
import Synchronization

/// A namespace named `hgw-<purpose>-<8 hex digits>`, removed by `delete()` (idempotent; tests
/// call it in a `defer`), by its deinit when a test lets go of it on any path, and by its own
/// initializer when the setup fails half-way.
public final class NamespaceLab: Sendable {
    public let name: String
    /// The addressed end of the veth pair, and its peer.
    public let link: String
    public let peer: String
    private let ipTool: String
    private let deleted = Mutex(false)

    /// - Parameters:
    ///   - purpose: the middle of the namespace's name, so a leftover names its test.
    ///   - addresses: interface addresses put on `link` (IPv6 ones without duplicate address
    ///     detection, so they are usable at once).
    public init(_ purpose: String, link: String = "veth0", peer: String = "veth1", addresses: [String]) throws {
        guard let ipTool = ProcessRunner.locate("ip") else { throw ProcessError.notFound(tool: "ip") }
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        self.name = "hgw-\(purpose)-\(String(repeating: "0", count: 8 - suffix.count))\(suffix)"
        self.link = link
        self.peer = peer
        self.ipTool = ipTool
        try ProcessRunner.check([ipTool, "netns", "add", name])
        do {
            try ip("link", "set", "lo", "up")
            try ip("link", "add", link, "type", "veth", "peer", "name", peer)
            for address in addresses {
                try ip(address.contains(":") ? ["-6", "addr", "add", address, "dev", link, "nodad"] : ["addr", "add", address, "dev", link])
            }
            try ip("link", "set", peer, "up")
            try ip("link", "set", link, "up")
        } catch {
            delete()
            throw error
        }
    }

    deinit { delete() }

    /// `ip -n <name> ARGS...`; its stdout, or `ProcessError.failed` naming the command and stderr.
    @discardableResult
    public func ip(_ arguments: [String]) throws -> String { try ProcessRunner.check([ipTool, "-n", name] + arguments) }

    @discardableResult
    public func ip(_ arguments: String...) throws -> String { try ip(arguments) }

    /// Runs any program inside the namespace (`ip netns exec`); its stdout, or `ProcessError.failed`.
    @discardableResult
    public func run(_ command: [String]) throws -> String { try ProcessRunner.check([ipTool, "netns", "exec", name] + command) }

    /// Runs a program inside the namespace and returns how it ended, without judging it.
    public func execute(_ command: [String]) throws -> ProcessResult {
        try ProcessRunner.run([ipTool, "netns", "exec", name] + command)
    }

    public func delete() {
        let first = deleted.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        _ = try? ProcessRunner.run([ipTool, "netns", "delete", name])
    }
}
