// Errors of ExternalPeers; each says what the operator should do next.

public enum ExternalPeersError: Error, CustomStringConvertible {
    /// `--netplan-iface`/`--external-iface` is not a valid Linux interface name.
    case invalidInterfaceName(String, reason: String)
    /// `--external-iface` names no interface on this host.
    case interfaceNotFound(String, available: [String])
    /// `--external-iface` has no address to test gateways against (only host-scope ones, or none).
    case interfaceHasNoAddresses(String)
    /// Reading links or addresses over netlink failed.
    case netlink(operation: String, underlying: any Error)
    /// The JSON document could not be encoded (a bug: every value is a string or number).
    case encoding(underlying: any Error)

    public var description: String {
        switch self {
        case .invalidInterfaceName(let name, let reason):
            "invalid interface name \(name.debugDescription): \(reason). Pass the name `ip link` shows"
        case .interfaceNotFound(let name, let available):
            "no interface named \(name) on this host (have: \(available.joined(separator: ", "))). "
                + "Pass one of those to --external-iface, or give the address with --external-ip ADDR/LEN"
        case .interfaceHasNoAddresses(let name):
            "interface \(name) has no IPv4 or IPv6 address, so no gateway can be on-link from it. "
                + "Configure its address first, or give it with --external-ip ADDR/LEN"
        case .netlink(let operation, let underlying):
            "netlink \(operation) failed: \(underlying). Run as a user that can read rtnetlink, "
                + "or give the address with --external-ip ADDR/LEN"
        case .encoding(let underlying):
            "could not encode the JSON document: \(underlying). This is a bug in hostgw; please report it"
        }
    }

    /// Linux's rules (dev_valid_name): 1-15 bytes, not "." or "..", no '/', ':' or whitespace.
    static func validateInterfaceName(_ name: String) throws(ExternalPeersError) {
        let bytes = Array(name.utf8)
        if bytes.isEmpty || bytes.count > 15 {
            throw .invalidInterfaceName(name, reason: "must be 1 to 15 bytes long")
        }
        if name == "." || name == ".." {
            throw .invalidInterfaceName(name, reason: "must not be . or ..")
        }
        if bytes.contains(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: ":") || $0 <= 0x20 || $0 == 0x7f }) {
            throw .invalidInterfaceName(name, reason: "must not contain '/', ':', spaces or control characters")
        }
    }
}
