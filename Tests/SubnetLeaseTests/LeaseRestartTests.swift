import HostGwTestSupport
import NetAddress
import Foundation
import Netlink
import SubnetLease
import Testing

@Suite struct LeaseRestartTests {
    @Test(arguments: StoreKind.allCases)
    func restartKeepsTheSubnet(_ kind: StoreKind) async throws {
        let dir = try tempDirectory("restart")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cfg = try config(standardConfigJSON)
        try await withStore(kind) { f in
            // Other nodes first, so "random" would rarely land on the same subnet by chance.
            for i in 10..<20 {
                _ = try await LeaseManager(store: f.store, config: cfg, identity: node(i), options: LeaseOptions(stateDirectory: "\(dir)/o\(i)"), logger: quietLogger).acquire()
            }
            let me = node(1)
            let first = try await LeaseManager(store: f.store, config: cfg, identity: me, options: LeaseOptions(stateDirectory: dir), logger: quietLogger).acquire()
            // Agent restart: a new manager, same node, lease still in the store.
            let again = try await LeaseManager(store: f.store, config: cfg, identity: me, options: LeaseOptions(stateDirectory: dir), logger: quietLogger).acquire()
            #expect(again.subnet == first.subnet)
            #expect(try await f.store.listLeases(config: cfg).leases.count == 11)

            // An upgrade changes the attributes; the subnet and key stay.
            var upgraded = me
            upgraded.agentVersion = "test-2"
            let third = try await LeaseManager(store: f.store, config: cfg, identity: upgraded, options: LeaseOptions(stateDirectory: dir), logger: quietLogger).acquire()
            #expect(third.subnet == first.subnet)
            #expect(third.attributes.agentVersion == "test-2")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func rebootKeepsTheSubnetFromTheStateDir(_ kind: StoreKind) async throws {
        let dir = try tempDirectory("reboot")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cfg = try config(standardConfigJSON)
        try await withStore(kind) { f in
            let me = node(2)
            let manager = LeaseManager(store: f.store, config: cfg, identity: me, options: LeaseOptions(stateDirectory: dir), logger: quietLogger)
            let first = try await manager.acquire()
            let state = try #require(FileManager.default.contents(atPath: dir + "/lease.json"))
            #expect(String(decoding: state, as: UTF8.self).contains(first.subnet?.description ?? "-"))
            // Long reboot: the lease expired meanwhile (simulated by removing the key); the run
            // dir is gone, the state dir is kept.
            let key = "/coreos.com/network/subnets/\(first.key)"
            #expect(try await f.store.compareAndDelete(try #require(try await f.store.get(key: key))))
            let rebooted = try await LeaseManager(store: f.store, config: cfg, identity: me, options: LeaseOptions(stateDirectory: dir), logger: quietLogger).acquire()
            #expect(rebooted.subnet == first.subnet)

            // If someone else took it meanwhile, we get another subnet (and never theirs).
            #expect(try await f.store.compareAndDelete(try #require(try await f.store.get(key: key))))
            let theirs = try JSONEncoder().encode(LeaseAttributes(publicIP: node(3).publicIP, nodeName: "node-3"))
            #expect(try await f.store.create(key: key, value: theirs, ttl: .seconds(60)) != nil)
            let moved = try await LeaseManager(store: f.store, config: cfg, identity: me, options: LeaseOptions(stateDirectory: dir), logger: quietLogger).acquire()
            #expect(moved.subnet != first.subnet)
            #expect(try await f.store.get(key: key)?.value == theirs)
        }
    }
}
