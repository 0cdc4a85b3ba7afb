import NetAddress
import Netlink
import SubnetLease
import Testing

@Suite struct LeaseKeyTests {
    @Test func dualStackKeyRoundTrips() throws {
        let key = "10.244.3.0-24&fd00:1::-64"
        let parsed = try #require(Lease.parseKey(key))
        #expect(parsed.subnet?.description == "10.244.3.0/24")
        #expect(parsed.ipv6Subnet?.description == "fd00:1::/64")
        #expect(Lease.key(subnet: parsed.subnet, ipv6Subnet: parsed.ipv6Subnet) == key)
    }

    @Test(arguments: ["10.244.3.1-24", "10.244.3.0_24", "", "10.244.3.0-24&10.244.4.0-24", "garbage"])
    func malformedKeysAreRefused(_ key: String) {
        #expect(Lease.parseKey(key) == nil)
    }
}

@Suite struct SkipCategoryNamesTests {
    /// The `reason` label of hostgw_store_invalid_entries_total: dashboards and alerts use these
    /// words, so a rename must fail here first.
    @Test func rawValuesAreTheMetricLabels() {
        #expect(SkipCategory.allCases.map(\.rawValue) == ["key", "value", "network", "overlap", "family"])
        #expect(SkipCategory.allCases.map(\.description) == SkipCategory.allCases.map(\.rawValue))
    }
}
