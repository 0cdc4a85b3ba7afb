// Throwaway namespaces: named prefix-8hex, commands run inside, failures name the command, delete
// is idempotent.
import HostGwTestSupport
import NetAddress
import Foundation
@testable import Netlink
import Testing

@Suite(.needsRoot)
struct NetworkNamespaceTests {
    @Test func createRunDelete() throws {
        let ns = try NetworkNamespace.create(prefix: "hgw-nstest")
        defer { ns.delete() }
        #expect(ns.name.hasPrefix("hgw-nstest-"))
        let suffix = ns.name.dropFirst("hgw-nstest-".count)
        #expect(suffix.count == 8 && suffix.allSatisfy(\.isHexDigit))
        #expect(try NetworkNamespace.execute(["ip", "netns", "list"]).stdout.contains(ns.name))

        // Inside, only loopback exists.
        #expect(try ns.run(["ip", "-o", "link", "show"]).split(separator: "\n").count == 1)

        #expect {
            try ns.run(["ip", "route", "add", "10.1.0.0/16", "via", "10.9.9.9"])
        } throws: { error in
            guard let e = error as? CommandError else { return false }
            return e.status != 0 && e.command.contains("10.9.9.9") && !e.stderr.isEmpty
                && e.description.contains("ip netns exec \(ns.name) ip route add")
        }

        ns.delete()
        ns.delete()
        #expect(try !NetworkNamespace.execute(["ip", "netns", "list"]).stdout.contains(ns.name))
    }
}
