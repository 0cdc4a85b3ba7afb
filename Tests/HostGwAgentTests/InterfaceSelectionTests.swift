import NetAddress
import Netlink
import Testing

@testable import HostGwAgent

@Suite struct InterfaceSelectionTests {
    let links = [
        Link(index: 1, name: "lo", mtu: 65536, isUp: true, hasCarrier: true, operState: .unknown),
        Link(index: 2, name: "eth0", mtu: 1500, isUp: true, hasCarrier: true, operState: .up),
        Link(index: 3, name: "bond0", mtu: 9000, isUp: true, hasCarrier: true, operState: .up),
    ]
    let addresses = [
        InterfaceAddress(interfaceIndex: 1, address: IPAddress("127.0.0.1")!, prefixLength: 8, scope: .host),
        InterfaceAddress(interfaceIndex: 2, address: IPAddress("192.168.1.5")!, prefixLength: 24),
        InterfaceAddress(interfaceIndex: 3, address: IPAddress("10.0.0.11")!, prefixLength: 24),
        InterfaceAddress(interfaceIndex: 3, address: IPAddress("fd00::11")!, prefixLength: 64),
        InterfaceAddress(interfaceIndex: 3, address: IPAddress("fe80::1")!, prefixLength: 64, scope: .link),
    ]
    let routes = [Route(destination: IPPrefix("0.0.0.0/0")!, gateway: IPAddress("10.0.0.1"), outputInterface: 3, protocol: .boot)]

    func pick(_ c: InterfaceChoice, ip: IPv4Address? = nil, v6: Bool = false) throws(InterfaceSelectionError) -> SelectedInterface {
        try selectInterface(c, publicIP: ip, publicIPv6: nil, needIPv4: true, needIPv6: v6, links: links, addresses: addresses, routes: routes)
    }

    @Test func defaultRouteInterfaceAndItsFirstAddress() throws {
        let s = try pick(.defaultRoute, v6: true)
        #expect(s.link.name == "bond0")
        #expect(s.publicIP == IPv4Address("10.0.0.11"))
        #expect(s.publicIPv6 == IPv6Address("fd00::11"))
    }

    @Test func byNameByAddressByRegexByReach() throws {
        #expect(try pick(.named("eth0")).link.index == 2)
        #expect(try pick(.address(IPAddress("10.0.0.11")!)).link.index == 3)
        #expect(try pick(.regex("^eth")).link.index == 2)
        #expect(try pick(.regex("^10\\.0\\.")).link.index == 3)
        #expect(try pick(.canReach(IPAddress("192.168.1.77")!)).link.index == 2)
    }

    @Test func publicIPOffTheInterfaceIsRefusedAsNAT() {
        #expect(throws: InterfaceSelectionError.publicIPNotOnInterface(ip: IPAddress("203.0.113.9")!, link: "bond0", addresses: ["10.0.0.11"])) {
            try pick(.defaultRoute, ip: IPv4Address("203.0.113.9"))
        }
    }

    @Test func missingThingsAreNamed() {
        #expect(throws: InterfaceSelectionError.noSuchInterface("eth9")) { try pick(.named("eth9")) }
        #expect(throws: InterfaceSelectionError.cannotReach(IPAddress("172.16.0.1")!)) { try pick(.canReach(IPAddress("172.16.0.1")!)) }
        #expect(throws: InterfaceSelectionError.noAddress(family: .v6, link: "eth0")) { try pick(.named("eth0"), v6: true) }
        #expect(throws: InterfaceSelectionError.noDefaultRoute(families: [.v4])) {
            try selectInterface(.defaultRoute, publicIP: nil, publicIPv6: nil, needIPv4: true, needIPv6: false, links: links, addresses: addresses, routes: [])
        }
    }

    // IPv6-only networks: the IPv6 default route names the interface (no --iface needed).
    let v6Default = Route(destination: IPPrefix("::/0")!, gateway: IPAddress("fe80::1"), outputInterface: 2, protocol: RouteProtocol(9), priority: 1024)
    let v6Addresses = [
        InterfaceAddress(interfaceIndex: 2, address: IPAddress("fd00:77::11")!, prefixLength: 64),
        InterfaceAddress(interfaceIndex: 2, address: IPAddress("fe80::11")!, prefixLength: 64, scope: .link),
        InterfaceAddress(interfaceIndex: 3, address: IPAddress("fd00::11")!, prefixLength: 64),
    ]

    func pickDefault(v4: Bool, v6: Bool, routes: [Route], addresses: [InterfaceAddress]) throws(InterfaceSelectionError) -> SelectedInterface {
        try selectInterface(.defaultRoute, publicIP: nil, publicIPv6: nil, needIPv4: v4, needIPv6: v6, links: links, addresses: addresses, routes: routes)
    }

    @Test func ipv6OnlyNetworkPicksTheInterfaceOfTheIPv6DefaultRoute() throws {
        // An IPv4 default on bond0 is irrelevant to an IPv6-only network.
        let s = try pickDefault(v4: false, v6: true, routes: routes + [v6Default], addresses: v6Addresses)
        #expect(s.link.name == "eth0")
        #expect(s.publicIP == nil)
        #expect(s.publicIPv6 == IPv6Address("fd00:77::11"))
    }

    @Test func ipv6DefaultsAreRankedByEffectiveMetric() throws {
        var low = v6Default
        low.outputInterface = 3
        low.priority = 100
        var unset = v6Default
        unset.priority = nil  // the kernel's 1024
        #expect(try pickDefault(v4: false, v6: true, routes: [unset, low], addresses: v6Addresses).link.name == "bond0")
    }

    @Test func dualStackPrefersTheIPv4DefaultAndFallsBackToIPv6() throws {
        let both = addresses + v6Addresses
        #expect(try pickDefault(v4: true, v6: true, routes: routes + [v6Default], addresses: both).link.name == "bond0")
        let onlyV6Default = [InterfaceAddress(interfaceIndex: 2, address: IPAddress("10.1.0.5")!, prefixLength: 24)] + v6Addresses
        #expect(try pickDefault(v4: true, v6: true, routes: [v6Default], addresses: onlyV6Default).link.name == "eth0")
    }

    @Test func noDefaultRouteOfTheNeededFamiliesIsNamed() {
        #expect(throws: InterfaceSelectionError.noDefaultRoute(families: [.v6])) {
            try pickDefault(v4: false, v6: true, routes: routes, addresses: v6Addresses)
        }
        #expect(throws: InterfaceSelectionError.noDefaultRoute(families: [.v4, .v6])) {
            try pickDefault(v4: true, v6: true, routes: [], addresses: v6Addresses)
        }
        #expect("\(InterfaceSelectionError.noDefaultRoute(families: [.v6]))".hasPrefix("no IPv6 default route"))
    }

    // MARK: at boot: wait for the network, or exit 78 (RestartPreventExitStatus)

    /// The machine as hostgw may find it at boot: the links are there, the addresses and the
    /// default route come later (DHCP, SLAAC, a bond configured late).
    func atBoot(_ c: InterfaceChoice, ip: IPv4Address? = nil, v6: Bool = false, addresses: [InterfaceAddress] = [], routes: [Route] = [])
        -> InterfaceSelectionError?
    {
        let picked = Result { () throws(InterfaceSelectionError) in
            try selectInterface(c, publicIP: ip, publicIPv6: nil, needIPv4: true, needIPv6: v6, links: links, addresses: addresses, routes: routes)
        }
        if case .failure(let e) = picked { return e }
        return nil
    }

    @Test func whatTheNetworkComingUpCanFixIsWaitedFor() throws {
        let loOnly = [addresses[0]]
        // No default route yet, no address yet, a named or matched interface not created yet.
        let waits: [InterfaceSelectionError?] = [
            atBoot(.defaultRoute, addresses: loOnly),
            atBoot(.defaultRoute, addresses: loOnly, routes: routes),
            atBoot(.named("eth0"), addresses: loOnly),
            atBoot(.named("vlan42"), addresses: addresses, routes: routes),
            atBoot(.regex("^vlan"), addresses: addresses, routes: routes),
            atBoot(.canReach(IPAddress("10.0.0.99")!), addresses: loOnly),
            atBoot(.address(IPAddress("10.0.0.11")!), addresses: loOnly),
            atBoot(.named("bond0"), v6: true, addresses: [addresses[2]]),
            // --public-ip on an interface that has no address yet.
            atBoot(.named("bond0"), ip: IPv4Address("10.0.0.11"), addresses: loOnly),
        ]
        for e in waits {
            let error = try #require(e, "selection succeeded with the network down")
            #expect(error.mayResolveItself, "\(error) would exit 78 and stop the agent for good")
        }
        // Once the network is up, the same settings pick the interface.
        #expect(atBoot(.defaultRoute, addresses: addresses, routes: routes) == nil)
        #expect(atBoot(.named("bond0"), ip: IPv4Address("10.0.0.11"), addresses: addresses) == nil)
    }

    @Test func aPublicIPTheInterfaceDoesNotCarryIsTheOperatorsToFix() throws {
        let error = try #require(atBoot(.defaultRoute, ip: IPv4Address("203.0.113.9"), addresses: addresses, routes: routes))
        #expect(error == .publicIPNotOnInterface(ip: IPAddress("203.0.113.9")!, link: "bond0", addresses: ["10.0.0.11"]))
        #expect(!error.mayResolveItself)
    }
}
