import NetAddress
import ArgumentParser
import Foundation
import Netlink
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
        let (s, r) = storeOptions.settingsOrExit()
        let q = settingOrExit { try NodeQuery(node, r) }
        if await StatusSource.fromAgent(q) != nil {
            fail("the agent is still running (it answers at \(q.statusURL)) and would put everything back: stop it first", code: ExitStatus.usage)
        }

        // Routes first: if the store is unreachable the node is still taken out of the data path.
        let nl: NetlinkClient
        do { nl = try NetlinkClient() } catch { fail("cannot open netlink: \(error)", code: ExitStatus.noPermission) }
        defer { nl.close() }
        let ours = try await nl.routes(family: nil, table: q.table, protocol: q.routeProtocol)
        let results = try await nl.apply(ours.map { RouteChange(.delete, $0) })
        let failed = zip(ours, results).compactMap { route, result -> String? in
            if case .failure(let e) = result, e.errno != .ESRCH { return "\(route.destination): \(e)" }
            return nil
        }
        print("deleted \(ours.count - failed.count) hostgw route(s) (protocol \(q.routeProtocol.rawValue), table \(q.table))")
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
            if mine.isReservation {
                print("lease \(mine.key) is a reservation (no TTL): left in place; delete it in the store to free the subnet")
            } else if let entry = try await store.get(key: keys.key(for: mine)), try await store.compareAndDelete(entry) {
                print("released lease \(mine.key)")
            } else {
                fail("lease \(mine.key) changed while it was being released; run hostgw leave again", code: ExitStatus.software)
            }
            try? FileManager.default.removeItem(atPath: (q.stateDir as NSString).appendingPathComponent("lease.json"))
        }
        if !failed.isEmpty { throw ExitCode(1) }
    }
}
