import HostGwTestSupport
import NetAddress
import Testing

@Suite struct IPAddressTests {
    @Test(arguments: ["10.244.3.0/24", "0.0.0.0/0", "fd00:1::/64", "::/0", "10.0.0.1/32"])
    func prefixRoundTrips(_ text: String) throws {
        let p = try #require(IPPrefix(text))
        #expect(p.description == text)
    }

    @Test(arguments: ["10.244.3.1/24", "10.244.3.0/33", "10.244.3.0", "10.244.3.0/", "/24", "fd00::1/64", "10.244.3.0/+24", "1.2.3/24"])
    func strictParseRefuses(_ text: String) {
        #expect(IPPrefix(text) == nil)
    }

    @Test func containsAndOverlaps() throws {
        let net = try prefix("10.244.0.0/16")
        let sub = try prefix("10.244.3.0/24")
        #expect(net.contains(sub))
        #expect(!sub.contains(net))
        #expect(net.overlaps(sub) && sub.overlaps(net))
        #expect(net.contains(try ip("10.244.255.1")))
        #expect(!net.contains(try ip("10.245.0.1")))
        #expect(!net.contains(try ip("fd00::1")))
    }

    @Test func subnetIndexing() throws {
        let net = try prefix("10.244.0.0/16")
        #expect(net.subnet(3, length: 24)?.description == "10.244.3.0/24")
        #expect(net.subnet(256, length: 24) == nil)
        #expect(net.index(of: try prefix("10.244.200.0/24")) == 200)
        let v6 = try prefix("fd00:1::/48")
        #expect(v6.subnet(5, length: 64)?.description == "fd00:1:0:5::/64")
        #expect(v6.index(of: try prefix("fd00:1:0:5::/64")) == 5)
    }
}
