// The echo every agent answers: UDP on the probe port, v4 and v6 wildcard, valid probe requests
// echoed back as same-size replies, everything else dropped and counted.
public import Logging
public import Metrics
public import NIOCore
public import NIOPosix
import NetAddress
import Netlink
public import ServiceLifecycle

public actor ProbeResponder: Service {
    private let port: UInt16
    private let group: any EventLoopGroup
    private let counters: ProbeResponderCounters
    private let logger: Logger
    private let namespace: String?
    private let marks: ProbeMarks
    private var channels: [any Channel] = []
    private var binding: Task<UInt16, any Error>?

    /// - Parameters:
    ///   - port: the UDP port (`ProbeConfig.defaultPort`); 0 lets the kernel pick (tests).
    ///   - namespace: open the sockets in this network namespace (a name under /run/netns or a
    ///     path) instead of the agent's own: tests and the benchmark.
    ///   - marks: the firewall mark replies carry per family (`ProbeMarks.choose`), so that a
    ///     reply to a peer's pod-path probe takes hostgw's table like the probe did. A reply to a
    ///     node-path probe carries it too and falls through that table to the main one, which
    ///     holds the route to the peer's node address (hostgw's table holds pod routes alone).
    public init(
        port: UInt16 = ProbeConfig.defaultPort, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        metrics: any MetricsFactory = MetricsSystem.factory, logger: Logger, namespace: String? = nil,
        marks: ProbeMarks = ProbeMarks()
    ) {
        self.marks = marks
        self.port = port
        self.group = group
        self.counters = ProbeResponderCounters(factory: metrics)
        self.logger = logger
        self.namespace = namespace
    }

    /// Binds the sockets (once; later calls return the same port) and returns the port bound.
    /// Throws `ProbeSocketError` naming the port and errno, e.g. EADDRINUSE. A node without
    /// IPv6 (EAFNOSUPPORT) answers on IPv4 only.
    @discardableResult
    public func bind() async throws -> UInt16 {
        if let binding { return try await binding.value }
        let task = Task { try await self.openSockets() }
        binding = task
        return try await task.value
    }

    private func openSockets() async throws -> UInt16 {
        var opened: [any Channel] = []
        var bound = port
        do {
            for family in [IPFamily.v4, .v6] {
                let opening = Result { () throws(ProbeSocketError) -> Int32 in
                    try ProbeSockets.open(family: family, address: nil, port: bound, namespace: namespace, mark: marks.mark(family))
                }
                if case .failure(let error) = opening, family == .v6, error.errno == .EAFNOSUPPORT {
                    logger.notice("no IPv6 on this node: peer probes answered on IPv4 only", metadata: ["port": "\(bound)"])
                    continue
                }
                let fd = try opening.get()
                let counters = self.counters
                let channel = try await ProbeSockets.channel(
                    fd: fd, group: group, family: family, address: nil, port: bound, namespace: namespace, packetInfo: true,
                    handler: { ProbeEchoHandler(counters: counters, fd: fd) }
                ).get()
                opened.append(channel)
                if bound == 0, let picked = channel.localAddress?.port { bound = UInt16(picked) }
            }
        } catch {
            for channel in opened { try? await channel.close() }
            binding = nil
            throw error
        }
        channels = opened
        logger.info("answering peer probes", metadata: ["port": "\(bound)"])
        return bound
    }

    /// Binds (see `bind()`), answers until the task is cancelled, then closes the sockets. A
    /// socket that closes under it (a read error swift-nio finds fatal; replies go out by
    /// sendmsg, so a refused one, say EPERM from an output filter, closes nothing) is opened
    /// again a second later: the node must not stay deaf to every peer.
    public func run() async throws {
        try await bind()
        while true {
            let channels = self.channels
            await withTaskCancellationHandler {
                await withTaskGroup(of: Void.self) { group in
                    for channel in channels { group.addTask { try? await channel.closeFuture.get() } }
                    await group.next()
                    // One closed: close the rest so every wait ends, then open them all again.
                    for channel in channels { channel.close(promise: nil) }
                }
            } onCancel: {
                for channel in channels { channel.close(promise: nil) }
            }
            self.channels = []
            binding = nil
            if Task.isCancelled { return }
            counters.reopened.increment()
            logger.warning("a peer-probe socket closed under the agent; opening it again", metadata: ["port": "\(port)"])
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                do {
                    try await bind()
                    break
                } catch {
                    binding = nil
                    logger.warning("reopening the peer-probe socket failed; retrying", metadata: ["port": "\(port)", "error": "\(error)"])
                }
            }
            if Task.isCancelled { return }
        }
    }
}
