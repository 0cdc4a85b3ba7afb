import NetAddress
import HostGwTestSupport
import Netlink
import RouteSync
import SubnetLease
import Testing

@Suite struct DesiredRoutesTests {
    @Test func peerLeasesBecomeRoutesThroughTheLinkHoldingTheGateway() throws {
        let leases = try [
            lease("10.244.1.0/24", via: "10.0.0.1", node: "self"),
            lease("10.244.3.0/24", via: "10.0.0.3", node: "c"),
            lease("10.244.2.0/24", via: "10.0.0.2", node: "b"),
        ]
        let desired = try DesiredRoutes(leases: leases, config: v4Config, links: nodeLinks, addresses: nodeAddresses)
        #expect(try desired.routes == [hostgwRoute("10.244.2.0/24", via: "10.0.0.2"), hostgwRoute("10.244.3.0/24", via: "10.0.0.3")])
        #expect(desired.peers.map(\.state) == [.pending, .pending])
        #expect(desired.peers.map(\.interface) == ["eth0", "eth0"])
        #expect(desired.peers.first?.peerName == "b (10.0.0.2)")
        #expect(!desired.routes.contains { $0.onLink })
    }

    @Test func dualStackGivesOneRoutePerFamily() throws {
        let config = try RouteSyncConfig(
            podNetworks: [.v4: prefix("10.244.0.0/16"), .v6: prefix("fd10:244::/56")],
            localSubnets: [prefix("10.244.1.0/24"), prefix("fd10:244:0:1::/64")])
        let leases = try [lease("10.244.2.0/24", via: "10.0.0.2", v6: "fd10:244:0:2::/64", gateway6: "fd00::2")]
        let desired = DesiredRoutes(leases: leases, config: config, links: nodeLinks, addresses: nodeAddresses)
        #expect(desired.routes.map(\.description) == [
            "10.244.2.0/24 via 10.0.0.2 dev#2 proto 77", "fd10:244:0:2::/64 via fd00::2 dev#2 proto 77",
        ])
    }

    @Test func customTableAndProtocolAreCarried() throws {
        var config = try v4Config
        config.table = 100
        config.routeProtocol = RouteProtocol(201)
        let desired = try DesiredRoutes(
            leases: [lease("10.244.2.0/24", via: "10.0.0.2")], config: config, links: nodeLinks, addresses: nodeAddresses)
        #expect(desired.routes.first?.table == 100)
        #expect(desired.routes.first?.protocol == RouteProtocol(201))
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var leases: [Lease]
        var subnet: String
        var state: PeerState
        var reasonContains: String
        var testDescription: String { name }
    }

    static var cases: [Case] {
        get throws {
            try [
                Case(name: "no gateway", leases: [lease("10.244.2.0/24", via: nil)], subnet: "10.244.2.0/24", state: .invalidLease, reasonContains: "no PublicIP"),
                Case(name: "outside pod network", leases: [lease("10.245.2.0/24", via: "10.0.0.2")], subnet: "10.245.2.0/24", state: .invalidLease, reasonContains: "outside the pod network"),
                Case(name: "wrong length", leases: [lease("10.244.2.0/25", via: "10.0.0.2")], subnet: "10.244.2.0/25", state: .invalidLease, reasonContains: "not a /24"),
                Case(name: "claims own subnet", leases: [lease("10.244.1.0/24", via: "10.0.0.2", v6: "fd00:9::/64")], subnet: "10.244.1.0/24", state: .invalidLease, reasonContains: "own subnet 10.244.1.0/24"),
                Case(name: "overlaps connected network", leases: [lease("10.244.9.0/24", via: "10.0.0.2")], subnet: "10.244.9.0/24", state: .invalidLease, reasonContains: "connected network 10.244.9.0/28 on eth1"),
                Case(name: "gateway is own address", leases: [lease("10.244.2.0/24", via: "10.0.0.1")], subnet: "10.244.2.0/24", state: .invalidLease, reasonContains: "this node's own address"),
                Case(name: "gateway off-link", leases: [lease("10.244.2.0/24", via: "192.168.7.2")], subnet: "10.244.2.0/24", state: .notAdjacent, reasonContains: "not inside any connected network"),
                Case(name: "gateway on a down link", leases: [lease("10.244.2.0/24", via: "172.16.0.2")], subnet: "10.244.2.0/24", state: .notAdjacent, reasonContains: "eth2, which is not usable"),
            ]
        }
    }

    @Test(arguments: try cases)
    func failingPeersGetNoRouteAndANamedState(_ c: Case) throws {
        let links = nodeLinks + [link(3, "eth1"), link(4, "eth2", up: false)]
        let addresses = try nodeAddresses + [address("10.244.9.1/28", on: 3), address("172.16.0.1/24", on: 4)]
        let desired = try DesiredRoutes(leases: c.leases, config: v4Config, links: links, addresses: addresses)
        let subnet = try prefix(c.subnet)
        #expect(!desired.routes.contains { $0.destination == subnet })
        let peer = try #require(desired.peers.first { $0.subnet == subnet })
        #expect(peer.state == c.state)
        #expect(peer.reason?.contains(c.reasonContains) == true, "\(peer.reason ?? "nil")")
    }

    /// Two leases claiming one subnet: the older one is routed and the younger gives way naming
    /// it (SubnetClaims; before, both were reported wrong and the subnet was not routed at all).
    @Test func ofTwoLeasesSharingASubnetTheOlderIsRoutedAndTheYoungerNamesIt() throws {
        var a = try lease("10.244.2.0/24", via: "10.0.0.2", node: "a")
        var b = try lease("10.244.2.0/24", via: "10.0.0.3", node: "b", v6: "fd00:9::/64")
        a.createRevision = 9
        b.createRevision = 5
        let c = try lease("10.244.3.0/24", via: "10.0.0.4", node: "c")
        let desired = try DesiredRoutes(leases: [c, a, b], config: v4Config, links: nodeLinks, addresses: nodeAddresses)
        #expect(try desired.routes.map(\.destination) == [prefix("10.244.2.0/24"), prefix("10.244.3.0/24")])
        #expect(desired.routes.first?.gateway?.description == "10.0.0.3", "the claim of b is older")
        let younger = try #require(desired.peers.first { $0.leaseKey == a.key })
        #expect(younger.state == .invalidLease)
        #expect(younger.reason == "subnet 10.244.2.0/24 is held by the older lease \(b.key) (node b); this lease gives way")
    }

    @Test func mostSpecificConnectedPrefixPicksTheLink() throws {
        let links = nodeLinks + [link(3, "eth1")]
        let addresses = try nodeAddresses + [address("10.0.0.129/25", on: 3)]
        let desired = try DesiredRoutes(
            leases: [lease("10.244.2.0/24", via: "10.0.0.200"), lease("10.244.3.0/24", via: "10.0.0.3")],
            config: v4Config, links: links, addresses: addresses)
        #expect(desired.routes.map(\.outputInterface) == [3, 2])
    }

    @Test func ownLeaseIsSkippedSilently() throws {
        let desired = try DesiredRoutes(
            leases: [lease("10.244.1.0/24", via: "10.0.0.1", node: "self")], config: v4Config, links: nodeLinks,
            addresses: nodeAddresses)
        #expect(desired.routes.isEmpty)
        #expect(desired.peers.isEmpty)
    }
}

@Suite struct DesiredRoutesRobustnessTests {
    @Test func malformedWideLeaseDoesNotInvalidateTheOthers() throws {
        let leases = try [lease("10.244.0.0/16", via: "10.0.0.9", node: "rogue"), lease("10.244.2.0/24", via: "10.0.0.2", node: "b")]
        let desired = try DesiredRoutes(leases: leases, config: v4Config, links: nodeLinks, addresses: nodeAddresses)
        #expect(try desired.routes.map(\.destination) == [prefix("10.244.2.0/24")])
        #expect(try desired.peer(for: prefix("10.244.0.0/16"))?.state == .invalidLease)
    }
}
