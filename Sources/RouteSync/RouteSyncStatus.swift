// The snapshot `hostgw status` and the loopback status endpoint print. A value: taking one never
// blocks a reconcile pass for longer than a copy.
public import Foundation
public import NetAddress

public struct RouteSyncStatus: Sendable, Hashable, Codable {
    public var observeOnly: Bool
    /// One entry per (peer lease, family), sorted by subnet.
    public var peers: [PeerStatus]
    /// hostgw-marked routes in the kernel after the last pass.
    public var routesInstalled: Int
    /// The newest drift events, oldest first, at most `RouteSyncConfig.driftHistoryLimit`.
    public var recentDrift: [DriftEvent]
    /// Drift events since start, by kind; every kind present. JSON: an object keyed by the raw
    /// values (`"missing": 0`).
    public var driftCounts: [DriftKind: Int]
    /// Peers by state; every state present. JSON: an object keyed by the raw values.
    public var peerCounts: [PeerState: Int]
    /// When the last pass that dumped and diffed the whole table finished.
    public var lastFullSync: Date?
    /// Wall time of the last pass, in seconds.
    public var lastPassDurationSeconds: Double?
    /// Why the last pass failed as a whole (a dump error), nil when it worked.
    public var lastPassError: String?
    /// Passes run since start.
    public var passes: Int
    /// Route deletions held after a mass deletion of leases (`MassDeletionHold`); nil when none.
    public var deletionHold: DeletionHoldStatus?

    public init(
        observeOnly: Bool, peers: [PeerStatus], routesInstalled: Int, recentDrift: [DriftEvent],
        driftCounts: [DriftKind: Int], peerCounts: [PeerState: Int], lastFullSync: Date?, lastPassDurationSeconds: Double?,
        lastPassError: String?, passes: Int, deletionHold: DeletionHoldStatus? = nil
    ) {
        self.observeOnly = observeOnly
        self.peers = peers
        self.routesInstalled = routesInstalled
        self.recentDrift = recentDrift
        self.driftCounts = driftCounts
        self.peerCounts = peerCounts
        self.lastFullSync = lastFullSync
        self.lastPassDurationSeconds = lastPassDurationSeconds
        self.lastPassError = lastPassError
        self.passes = passes
        self.deletionHold = deletionHold
    }
}

/// Peer routes kept although their leases vanished from the store in a mass deletion.
public struct DeletionHoldStatus: Sendable, Hashable, Codable {
    /// The subnets whose routes are kept.
    public var subnets: [IPPrefix]
    public var since: Date
    /// When the routes still without a lease are deleted.
    public var until: Date

    public init(subnets: [IPPrefix], since: Date, until: Date) {
        self.subnets = subnets
        self.since = since
        self.until = until
    }
}
