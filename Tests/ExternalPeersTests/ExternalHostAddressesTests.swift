// --external-iface: the interface's connected addresses, read from the kernel (inside a namespace
// of our own), decide which routes are on-link.
import NetAddress
import HostGwTestSupport
import ExternalPeers
import Netlink
import Testing

@Suite struct ExternalHostAddressesTests {
    static let links = [
        Link(index: 1, name: "lo", mtu: 65536, isUp: true, hasCarrier: true, operState: .unknown),
        Link(index: 2, name: "eth0", mtu: 1500, isUp: true, hasCarrier: true, operState: .up),
        Link(index: 3, name: "eth1", mtu: 1500, isUp: false, hasCarrier: false, operState: .down),
    ]
    static var addresses: [InterfaceAddress] {
        get throws {
            try [
        InterfaceAddress(interfaceIndex: 1, address: ip("127.0.0.1"), prefixLength: 8, scope: .host),
        InterfaceAddress(interfaceIndex: 2, address: ip("fd00::50"), prefixLength: 64),
        InterfaceAddress(interfaceIndex: 2, address: ip("10.0.0.50"), prefixLength: 24),
            ]
        }
    }

    @Test func picksTheNamedInterfacesAddressesOnly() throws {
        let picked = try ExternalHostAddresses.addresses(ofInterface: "eth0", links: Self.links, addresses: Self.addresses)
        #expect(picked.map(\.description) == ["10.0.0.50/24 dev#2", "fd00::50/64 dev#2"])
    }

    @Test func anUnknownInterfaceNamesTheAvailableOnes() {
        #expect {
            try ExternalHostAddresses.addresses(ofInterface: "wlan0", links: Self.links, addresses: Self.addresses)
        } throws: { error in
            guard let error = error as? ExternalPeersError, case .interfaceNotFound(let name, let available) = error else { return false }
            return name == "wlan0" && available == ["eth0", "eth1", "lo"] && error.description.contains("--external-ip")
        }
    }

    @Test func anInterfaceWithOnlyHostScopeAddressesIsRefused() {
        #expect {
            try ExternalHostAddresses.addresses(ofInterface: "lo", links: Self.links, addresses: Self.addresses)
        } throws: { error in
            guard let error = error as? ExternalPeersError, case .interfaceHasNoAddresses("lo") = error else { return false }
            return true
        }
    }

    @Test(.needsRoot)
    func readsTheKernelsAddressesAndSplitsOnThem() async throws {
        let ns = try Fixtures.namespace()
        defer { ns.delete() }
        let picked = try await ExternalHostAddresses.addresses(ofInterface: "v0", namespace: ns.name)
        let networks = Set(picked.compactMap(\.network).map(\.description))
        #expect(networks.isSuperset(of: ["10.0.0.0/24", "fd00::/64"]))
        let own = try ip("10.0.0.2")
        #expect(picked.contains { $0.address == own })

        // Every fixture gateway (10.0.0.1x, fd00::11) is on 10.0.0.0/24 or fd00::/64.
        let split = try OnLinkSplit(routes: Fixtures.routes, hostAddresses: picked)
        #expect(try split.reachable == Fixtures.routes)

        await #expect(throws: ExternalPeersError.self) {
            try await ExternalHostAddresses.addresses(ofInterface: "nosuch0", namespace: ns.name)
        }
    }
}
