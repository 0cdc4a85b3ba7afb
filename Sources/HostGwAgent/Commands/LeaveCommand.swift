import NetAddress
import ArgumentParser
import Foundation
import Netlink
import RouteSync
import SubnetLease

struct LeaveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leave",
        abstract: "Decommission this node: delete its hostgw routes and release its lease.",
        discussion: """
            Stop the agent first (systemctl stop hostgw). Only routes carrying hostgw's protocol are \
            deleted. A reservation (a lease key without TTL) is left in place. The other nodes remove \
            their route to this node's subnet as soon as the lease is gone.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var node: NodeQueryOptions

    func run() async throws {
        let (s, r) = try storeOptions.settingsOrExit()
        let q = try settingOrExit { try NodeQuery(node, r) }
        if await StatusSource.fromAgent(q) != nil {
            try fail("the agent is still running (it answers at \(q.statusURL)) and would put everything back: stop it first", code: ExitStatus.usage)
        }

        // Routes first: if the store is unreachable the node is still taken out of the data path.
        let nl: NetlinkClient
        do { nl = try NetlinkClient() } catch { try fail("cannot open netlink: \(error)", code: ExitStatus.noPermission) }
        defer { nl.close() }
        let removal = try await RouteRemoval.removeAll(from: nl, table: q.table, protocol: q.routeProtocol, logger: adminLogger())
        print("deleted \(removal.removed.count + removal.alreadyGone.count) hostgw route(s) (protocol \(q.routeProtocol.rawValue), table \(q.table))")
        let failed = removal.failures.map { "\($0.route.destination): \($0.error)" }
        for f in failed { FileHandle.standardError.write(Data("hostgw: could not delete \(f)\n".utf8)) }

        try await withStore(s, access: .readWrite) { store in
            let keys = LeaseKeys(prefix: s.prefix)
            let config = try await store.getConfig(keys: keys)
            let snap = try await store.listLeases(config: config, keys: keys)
            let addresses = try await nl.addresses()
            let holder = LeaseHolder.existing(stateDirectory: q.stateDir)
            guard let mine = snap.leases.first(where: { StatusSource.ownedBy($0, node: q.nodeName, addresses, holder: holder, keys: keys) }) else {
                print("no lease held by node \(q.nodeName) in \(s.summary)")
                return
            }
            // The library's release: the same steps the agent would take (and lease.json in the
            // --state-dir that was given, not a fixed path).
            let manager = LeaseManager(
                store: store, config: config, identity: NodeIdentity(nodeName: q.nodeName, publicIP: nil, holder: holder),
                options: LeaseOptions(keys: keys, stateDirectory: q.stateDir), logger: adminLogger())
            if mine.isReservation {
                _ = try await manager.release(mine)
                print("lease \(mine.key) is a reservation (no TTL): left in place; delete it in the store to free the subnet")
            } else if try await manager.release(mine) {
                print("released lease \(mine.key)")
            } else {
                try fail("lease \(mine.key) changed while it was being released; run hostgw leave again", code: ExitStatus.software)
            }
        }
        if !failed.isEmpty { throw ExitCode(1) }
    }
}
