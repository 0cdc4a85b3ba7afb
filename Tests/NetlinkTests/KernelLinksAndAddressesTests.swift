// links() and addresses() see the test link and its addresses.
import HostGwTestSupport
import NetAddress
@testable import Netlink
import Testing

@Suite(.needsRoot)
struct KernelLinksAndAddressesTests {
    @Test func seesTheTestLinkAndItsAddresses() throws {
        let lab = try Lab("nl-links")
        defer { lab.namespace.delete() }
        let links = try lab.socket.links()
        #expect(Set(links.map(\.name)) == ["lo", Lab.linkName, Lab.peerName])
        let link = try #require(links.first { $0.name == Lab.linkName })
        // Carrier is set as the veth pair comes up; operstate follows later (linkwatch, up to
        // 1 s), so `isUsable` is not asserted here.
        #expect(link.isUp && link.hasCarrier)
        #expect(link.mtu == 1500)

        let v4 = try lab.socket.addresses(family: .v4)
        #expect(v4.contains(InterfaceAddress(interfaceIndex: lab.ifindex, address: try ip("10.250.0.1"), prefixLength: 24)))
        #expect(v4.allSatisfy { $0.address.family == .v4 })
        let v6 = try lab.socket.addresses(family: .v6)
        #expect(v6.contains { $0.interfaceIndex == lab.ifindex && $0.address == (try? ip("fd00:250::1")) && $0.prefixLength == 64 })
        #expect(try lab.socket.addresses().count == v4.count + v6.count)
    }
}
