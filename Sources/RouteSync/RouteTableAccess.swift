// The kernel as RouteSync sees it: four calls. NetlinkClient is the real implementation; tests
// of the reconcile loop use an in-memory table.
public import NetAddress
public import Netlink

public protocol RouteTableAccess: Sendable {
    /// Routes of `table`, every protocol when `protocol` is nil.
    func routes(family: IPFamily?, table: UInt32?, protocol: RouteProtocol?) async throws -> [Route]
    /// Applies the changes in batches; one result per change, in order. Throws only when the
    /// batch could not be sent at all.
    func apply(_ changes: [RouteChange], batchSize: Int) async throws -> [Result<Void, NetlinkError>]
    func links() async throws -> [Link]
    func addresses(family: IPFamily?) async throws -> [InterfaceAddress]
}

/// The real kernel: NetlinkClient's calls already have these shapes.
extension NetlinkClient: RouteTableAccess {}
