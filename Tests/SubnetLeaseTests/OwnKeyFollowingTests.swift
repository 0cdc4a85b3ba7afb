import Foundation
import HostGwTestSupport
import NetAddress
import SubnetLease
import Testing

/// A node follows its own key through the watch (issue 11, items 2 and 3), on both stores.
@Suite struct OwnKeyFollowingTests {
    func identity(_ i: Int, holder: String, ip: Int? = nil) -> NodeIdentity {
        var n = node(ip ?? i)
        n.nodeName = "node-\(i)"
        n.holder = LeaseHolder(id: holder, machineID: "machine-\(holder)")
        return n
    }

    /// A manager whose `runFollowing()` is fed by a real watcher, as in the agent.
    func following(
        _ f: StoreFixture, _ manager: LeaseManager, _ cfg: NetworkConfig, _ body: (Task<Void, any Error>) async throws -> Void
    ) async throws {
        let watcher = LeaseWatcher(store: f.store, config: cfg, logger: quietLogger)
        let feed = Task {
            for await snapshot in watcher.snapshots() { await manager.observe(snapshot) }
        }
        let loop = Task { try await manager.runFollowing() }
        defer {
            feed.cancel()
            loop.cancel()
        }
        try await body(loop)
    }

    func ownValue(_ f: StoreFixture, _ key: String) async throws -> LeaseAttributes? {
        guard let e = try await f.store.get(key: key) else { return nil }
        return try? JSONDecoder().decode(LeaseAttributes.self, from: e.value)
    }

    @Test(arguments: StoreKind.allCases)
    func deletedKeyComesBackWithTheSameSubnet(_ kind: StoreKind) async throws {
        let dir = try tempDirectory("follow-del")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cfg = try config(standardConfigJSON)
        try await withStore(kind) { f in
            let me = identity(1, holder: "h1")
            let manager = LeaseManager(store: f.store, config: cfg, identity: me, options: LeaseOptions(stateDirectory: dir), logger: quietLogger)
            let lease = try await manager.acquire()
            let key = "/coreos.com/network/subnets/\(lease.key)"
            try await following(f, manager, cfg) { _ in
                let entry = try #require(try await f.store.get(key: key))
                #expect(try await f.store.compareAndDelete(entry))
                let back = await eventually { ((try? await f.store.get(key: key))?.createRevision ?? entry.createRevision) != entry.createRevision }
                #expect(back)
                #expect(try await ownValue(f, key)?.holder == me.holder)
                #expect(try #require(try await f.store.get(key: key)).hasTTL)
                #expect(await manager.status.ownKeyRepairs[.recreated] == 1)
                #expect(await manager.lease?.subnet == lease.subnet)
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func overwrittenKeyGetsItsValueBack(_ kind: StoreKind) async throws {
        let dir = try tempDirectory("follow-put")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cfg = try config(standardConfigJSON)
        try await withStore(kind) { f in
            let me = identity(2, holder: "h2")
            let manager = LeaseManager(store: f.store, config: cfg, identity: me, options: LeaseOptions(stateDirectory: dir), logger: quietLogger)
            let lease = try await manager.acquire()
            let key = "/coreos.com/network/subnets/\(lease.key)"
            try await following(f, manager, cfg) { _ in
                // What an operator's `etcdctl put` does: another PublicIP, no holder, no TTL.
                let foreign = try JSONEncoder().encode(LeaseAttributes(publicIP: IPv4Address("192.168.9.99")))
                _ = try await f.store.put(key: key, value: foreign)
                let restored = await eventually { (try? await ownValue(f, key))?.publicIP == me.publicIP }
                #expect(restored)
                #expect(try await ownValue(f, key)?.holder == me.holder)
                #expect(try #require(try await f.store.get(key: key)).hasTTL)
                #expect(await manager.status.ownKeyRepairs[.restored] == 1)
                #expect(await manager.status.lastOwnKeyRepair?.found.contains("192.168.9.99") == true)
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func anotherAgentsKeyIsNotFoughtOver(_ kind: StoreKind) async throws {
        let dir = try tempDirectory("follow-yield")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cfg = try config(standardConfigJSON)
        try await withStore(kind) { f in
            let me = identity(3, holder: "h3")
            let manager = LeaseManager(store: f.store, config: cfg, identity: me, options: LeaseOptions(stateDirectory: dir), logger: quietLogger)
            let lease = try await manager.acquire()
            let key = "/coreos.com/network/subnets/\(lease.key)"
            try await following(f, manager, cfg) { loop in
                let theirs = try JSONEncoder().encode(
                    LeaseAttributes(publicIP: IPv4Address("192.168.9.98"), nodeName: "node-3", holder: LeaseHolder(id: "other")))
                _ = try await f.store.put(key: key, value: theirs)
                await #expect(throws: LeaseError.self) { try await loop.value }
                #expect(try await f.store.get(key: key)?.value == theirs)
                #expect(await manager.status.ownKeyRepairs[.yielded] == 1)
            }
        }
    }

    /// Snapshots that name their changes are judged by them: another machine's lease under this
    /// node's name, written and then deleted while the node follows the watch, shows as a name
    /// clash and goes again; other nodes' leases between the two leave it as it is.
    @Test(arguments: StoreKind.allCases)
    func aNameClashThatComesAndGoesInWatchEventsIsFollowed(_ kind: StoreKind) async throws {
        let dir = try tempDirectory("clash-watch")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cfg = try config(standardConfigJSON)
        try await withStore(kind) { f in
            let me = identity(6, holder: "mine")
            let manager = LeaseManager(store: f.store, config: cfg, identity: me, options: LeaseOptions(stateDirectory: dir), logger: quietLogger)
            _ = try await manager.acquire()
            try await following(f, manager, cfg) { _ in
                func put(_ subnet: String, name: String, holder: String, ip: String) async throws -> StoreEntry {
                    let value = try JSONEncoder().encode(
                        LeaseAttributes(publicIP: IPv4Address(ip), nodeName: name, holder: LeaseHolder(id: holder)))
                    return try await f.store.put(key: "/coreos.com/network/subnets/\(subnet)", value: value)
                }
                let clash = try await put("10.244.200.0-24", name: "node-6", holder: "another", ip: "192.168.9.60")
                #expect(await eventually { await manager.status.nameClashes.count == 1 })
                for i in 1...3 { _ = try await put("10.244.\(210 + i).0-24", name: "node-\(20 + i)", holder: "h\(i)", ip: "192.168.9.\(70 + i)") }
                #expect(await eventually { await manager.status.nameClashes.count == 1 })
                #expect(try await f.store.compareAndDelete(clash))
                #expect(await eventually { await manager.status.nameClashes.isEmpty })
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func secondMachineWithTheSameNameLeasesItsOwnSubnet(_ kind: StoreKind) async throws {
        let dir = try tempDirectory("clash")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cfg = try config(standardConfigJSON)
        try await withStore(kind) { f in
            let first = identity(4, holder: "first")
            let firstLease = try await LeaseManager(
                store: f.store, config: cfg, identity: first, options: LeaseOptions(stateDirectory: dir + "/a"), logger: quietLogger
            ).acquire()
            let firstKey = "/coreos.com/network/subnets/\(firstLease.key)"
            let before = try #require(try await f.store.get(key: firstKey))

            // Same --node-name, another machine (holder) on another IP.
            let second = LeaseManager(
                store: f.store, config: cfg, identity: identity(4, holder: "second", ip: 40), options: LeaseOptions(stateDirectory: dir + "/b"),
                logger: quietLogger)
            let secondLease = try await second.acquire()
            #expect(secondLease.subnet != firstLease.subnet)
            #expect(try await f.store.get(key: firstKey) == before)  // not touched at all
            #expect(await second.status.nameClashes.count == 1)
            #expect(await second.status.nameClashes.first?.contains(first.publicIP?.description ?? "-") == true)

            // The first machine restarting keeps its own lease, not the second's.
            let again = try await LeaseManager(
                store: f.store, config: cfg, identity: first, options: LeaseOptions(stateDirectory: dir + "/a"), logger: quietLogger
            ).acquire()
            #expect(again.subnet == firstLease.subnet)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func sameMachineOnANewAddressKeepsItsLease(_ kind: StoreKind) async throws {
        let dir = try tempDirectory("newip")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cfg = try config(standardConfigJSON)
        try await withStore(kind) { f in
            let lease = try await LeaseManager(
                store: f.store, config: cfg, identity: identity(5, holder: "h5"), options: LeaseOptions(stateDirectory: dir), logger: quietLogger
            ).acquire()
            let moved = identity(5, holder: "h5", ip: 55)
            let again = try await LeaseManager(store: f.store, config: cfg, identity: moved, options: LeaseOptions(stateDirectory: dir), logger: quietLogger).acquire()
            #expect(again.subnet == lease.subnet)
            #expect(try await ownValue(f, "/coreos.com/network/subnets/\(lease.key)")?.publicIP == moved.publicIP)
        }
    }
}

/// Polls `condition` until it holds; the 30 s limit only guards against a hang.
func eventually(within limit: Duration = .seconds(30), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}
