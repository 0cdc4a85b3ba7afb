// `--external-iface IFACE`: when `hostgw routes --for-external` runs on the external host itself,
// its connected prefixes come from the kernel instead of being typed in as --external-ip.
import NetAddress
public import Netlink

public enum ExternalHostAddresses {
    /// The addresses of interface `name` among a links/addresses dump, without host-scope ones
    /// (loopback's 127.0.0.1/8 makes no gateway on-link). Pure, so the choice is tested without a
    /// kernel.
    public static func addresses(
        ofInterface name: String, links: [Link], addresses: [InterfaceAddress]
    ) throws(ExternalPeersError) -> [InterfaceAddress] {
        try ExternalPeersError.validateInterfaceName(name)
        guard let link = links.first(where: { $0.name == name }) else {
            throw .interfaceNotFound(name, available: links.map(\.name).sorted())
        }
        let own = addresses.filter { $0.interfaceIndex == link.index && $0.scope != .host }
        guard !own.isEmpty else { throw .interfaceHasNoAddresses(name) }
        return own.sorted { ($0.address, $0.prefixLength) < ($1.address, $1.prefixLength) }
    }

    /// Reads interface `name`'s addresses from the kernel. Runs the netlink dumps on
    /// `NetlinkClient`'s own thread, so it is safe to await from the cooperative pool.
    ///
    /// - Parameter namespace: a network namespace name (under /run/netns) or path; nil for the
    ///   caller's own, which is what the CLI uses.
    public static func addresses(ofInterface name: String, namespace: String? = nil) async throws(ExternalPeersError) -> [InterfaceAddress] {
        try ExternalPeersError.validateInterfaceName(name)
        let client: NetlinkClient
        do {
            client = try NetlinkClient(namespace: namespace)
        } catch {
            throw .netlink(operation: "open socket", underlying: error)
        }
        defer { client.close() }
        let links: [Link]
        let all: [InterfaceAddress]
        do {
            links = try await client.links()
        } catch {
            throw .netlink(operation: "dump links", underlying: error)
        }
        do {
            all = try await client.addresses()
        } catch {
            throw .netlink(operation: "dump addresses", underlying: error)
        }
        return try addresses(ofInterface: name, links: links, addresses: all)
    }
}
