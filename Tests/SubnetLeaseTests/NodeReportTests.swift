import Foundation
import HostGwTestSupport
import NetAddress
import SubnetLease
import Testing

/// What a node publishes with its lease (issue 13): extra JSON fields that flanneld ignores,
/// read leniently, written with one compare-and-swap on change only, never taken for someone
/// else's value by the own-key rules.
@Suite struct NodeReportTests {
    func decode(_ json: String) throws -> LeaseAttributes { try JSONDecoder().decode(LeaseAttributes.self, from: Data(json.utf8)) }

    @Test func theReportRoundTripsAndStaysOutOfFlannelsFields() throws {
        let report = NodeReport(
            mtu: 1450, podGateway: IPv4Address(10, 244, 3, 1), podGatewayV6: nil,
            conditions: [PublishedCondition(name: "ipv4-forwarding-off", severity: .critical)])
        let attrs = LeaseAttributes(publicIP: IPv4Address(10, 0, 0, 3), nodeName: "node-3", published: report)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let text = String(decoding: try encoder.encode(attrs), as: UTF8.self)
        #expect(text == #"{"BackendType":"host-gw","Conditions":[{"Name":"ipv4-forwarding-off","Severity":"critical"}],"MTU":1450,"NodeName":"node-3","PodGateway":"10.244.3.1","PublicIP":"10.0.0.3"}"#)
        #expect(try decode(text) == attrs)
        // Nothing to report: no extra field at all (a flanneld-shaped value).
        let plain = LeaseAttributes(publicIP: IPv4Address(10, 0, 0, 3))
        #expect(String(decoding: try encoder.encode(plain), as: UTF8.self) == #"{"BackendType":"host-gw","PublicIP":"10.0.0.3"}"#)
    }

    @Test func aMalformedReportNeverCostsTheLease() throws {
        // Every report field wrong: the lease still decodes, with its route fields, and no report.
        let bad = try decode(#"{"PublicIP":"10.0.0.3","BackendType":"host-gw","MTU":"big","PodGateway":"nope","Conditions":{"x":1}}"#)
        #expect(bad.publicIP == IPv4Address(10, 0, 0, 3))
        #expect(bad.published == NodeReport())
        // An implausible MTU is dropped; an unknown severity is shown as a warning; a hostile
        // list is bounded.
        let odd = try decode(#"{"PublicIP":"10.0.0.3","BackendType":"host-gw","MTU":9,"Conditions":[{"Name":"from-the-future","Severity":"emergency"},{"Name":""}]}"#)
        #expect(odd.published.mtu == nil)
        #expect(odd.published.conditions == [PublishedCondition(name: "from-the-future", severity: .warning)])
        let many = (0..<500).map { #"{"Name":"c\#($0)","Severity":"warning"}"# }.joined(separator: ",")
        let big = try decode(#"{"PublicIP":"10.0.0.3","BackendType":"host-gw","Conditions":[\#(many)]}"#)
        #expect(big.published.conditions.count == NodeReport.maxConditions)
    }

    @Test func aLaggingReportIsStillThisNodesOwnValue() {
        var own = LeaseAttributes(publicIP: IPv4Address(10, 0, 0, 3), nodeName: "n3", holder: LeaseHolder(id: "h", machineID: "m"))
        own.published.mtu = 1500
        var found = own
        found.published = NodeReport(mtu: 9000, conditions: [PublishedCondition(name: "forward-policy-drop", severity: .warning)])
        #expect(OwnKeyAction.decide(.value(found, hasTTL: true), own: own, isReservation: false) == .keep)
        found.nodeName = "someone-else"
        #expect(OwnKeyAction.decide(.value(found, hasTTL: true), own: own, isReservation: false) != .keep)
    }

    @Test(arguments: StoreKind.allCases)
    func publishWritesOnceOnChangeAndKeepsTheTTL(_ kind: StoreKind) async throws {
        let dir = try tempDirectory("report")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cfg = try config(standardConfigJSON)
        try await withStore(kind) { f in
            var me = node(1)
            me.holder = LeaseHolder(id: "h1", machineID: "m1")
            let manager = LeaseManager(store: f.store, config: cfg, identity: me, options: LeaseOptions(stateDirectory: dir), logger: quietLogger)
            let lease = try await manager.acquire()
            let key = "/coreos.com/network/subnets/\(lease.key)"
            let before = try #require(try await f.store.get(key: key))
            let report = NodeReport(mtu: 1450, podGateway: IPv4Address(10, 244, 9, 1), conditions: [PublishedCondition(name: "forward-policy-drop", severity: .warning)])
            try await manager.publish(report)
            let after = try #require(try await f.store.get(key: key))
            #expect(after.createRevision == before.createRevision)  // the same key, swapped, not re-created
            #expect(after.modRevision > before.modRevision)
            #expect(after.hasTTL)
            #expect(after.ttlHandle == before.ttlHandle)
            let stored = try JSONDecoder().decode(LeaseAttributes.self, from: after.value)
            #expect(stored.published == report)
            #expect(stored.identity == (try JSONDecoder().decode(LeaseAttributes.self, from: before.value)).identity)
            // The same report again, and a renewal: no write.
            try await manager.publish(report)
            try await manager.renew()
            #expect(try #require(try await f.store.get(key: key)).modRevision == after.modRevision)
            #expect(await manager.reportPublished)
            // A cleared report is written too (conditions gone).
            try await manager.publish(NodeReport(mtu: 1450, podGateway: IPv4Address(10, 244, 9, 1)))
            let cleared = try JSONDecoder().decode(LeaseAttributes.self, from: try #require(try await f.store.get(key: key)).value)
            #expect(cleared.published.conditions.isEmpty)
            #expect(await manager.status.ownKeyRepairs.values.reduce(0, +) == 0)
        }
    }
}
