// flannel's net-conf.json: the pod network and how it is cut into per-node subnets. Parsing is
// strict on purpose: a typo such as "SubnetLength" silently falling back to a default would hand
// every node a subnet of the wrong size, which is far harder to undo than a refused config.
public import Foundation
public import NetAddress

/// A refused network config: which field, the value found, and the rule it breaks.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var value: String
    public var rule: String

    public init(field: String, value: String, rule: String) {
        self.field = field
        self.value = value
        self.rule = rule
    }

    public var description: String { "\(field): \(value) is invalid: \(rule)" }
}

/// The validated network config, defaults filled in the way flannel fills them.
public struct NetworkConfig: Sendable, Hashable, Encodable {
    public var network: IPPrefix?
    public var subnetLength: Int
    public var subnetMin: IPPrefix?
    public var subnetMax: IPPrefix?
    public var enableIPv4: Bool
    public var enableIPv6: Bool
    public var ipv6Network: IPPrefix?
    public var ipv6SubnetLength: Int
    public var ipv6SubnetMin: IPPrefix?
    public var ipv6SubnetMax: IPPrefix?
    public var backendType: String

    public static let supportedBackend = "host-gw"

    static let topLevelKeys = [
        "Network", "SubnetLen", "SubnetMin", "SubnetMax", "EnableIPv4", "EnableIPv6", "IPv6Network",
        "IPv6SubnetLen", "IPv6SubnetMin", "IPv6SubnetMax", "Backend",
    ]
    static let backendKeys = ["Type"]

    /// Parses and validates net-conf.json bytes; throws `ConfigError` naming the offending field.
    public init(json: Data) throws(ConfigError) {
        let root: [String: JSONValue]
        do {
            let value = try JSONDecoder().decode(JSONValue.self, from: json)
            guard case .object(let object) = value else {
                throw ConfigError(field: "(document)", value: value.typeName, rule: "must be a JSON object")
            }
            root = object
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(field: "(document)", value: "\(json.count) bytes", rule: "is not valid JSON (\(error))")
        }
        try self.init(object: root)
    }

    init(object root: [String: JSONValue]) throws(ConfigError) {
        try Self.refuseUnknownKeys(root, valid: Self.topLevelKeys, path: "")

        enableIPv4 = try Self.bool(root, "EnableIPv4") ?? true
        enableIPv6 = try Self.bool(root, "EnableIPv6") ?? false
        guard enableIPv4 || enableIPv6 else {
            throw ConfigError(field: "EnableIPv4", value: "false", rule: "IPv4 and IPv6 are both disabled; enable at least one family")
        }

        backendType = Self.supportedBackend
        if let backend = root["Backend"] {
            guard case .object(let object) = backend else {
                throw ConfigError(field: "Backend", value: backend.typeName, rule: "must be an object such as {\"Type\": \"host-gw\"}")
            }
            try Self.refuseUnknownKeys(object, valid: Self.backendKeys, path: "Backend.")
            if let type = try Self.string(object, "Type", path: "Backend.") {
                guard type == Self.supportedBackend else {
                    throw ConfigError(field: "Backend.Type", value: type, rule: "hostgw only implements \"host-gw\"")
                }
            }
        }

        let v4 = try Self.family(
            root, family: .v4, enabled: enableIPv4,
            names: ("Network", "SubnetLen", "SubnetMin", "SubnetMax"))
        network = v4.network
        subnetLength = v4.length
        subnetMin = v4.min
        subnetMax = v4.max
        let v6 = try Self.family(
            root, family: .v6, enabled: enableIPv6,
            names: ("IPv6Network", "IPv6SubnetLen", "IPv6SubnetMin", "IPv6SubnetMax"))
        ipv6Network = v6.network
        ipv6SubnetLength = v6.length
        ipv6SubnetMin = v6.min
        ipv6SubnetMax = v6.max
    }

    /// flannel's default subnet length for a network prefix.
    public static func defaultSubnetLength(networkLength: Int, family: IPFamily) -> Int {
        switch family {
        case .v4: networkLength <= 22 ? 24 : networkLength + 2
        case .v6: networkLength <= 62 ? 64 : networkLength + 2
        }
    }

    // MARK: pool helpers

    /// The network of `family`, when that family is enabled.
    public func network(for family: IPFamily) -> IPPrefix? {
        switch family {
        case .v4: enableIPv4 ? network : nil
        case .v6: enableIPv6 ? ipv6Network : nil
        }
    }

    public func subnetLength(for family: IPFamily) -> Int { family == .v4 ? subnetLength : ipv6SubnetLength }

    /// First and last subnet index (inside the network) of the pool of `family`.
    func poolRange(for family: IPFamily) -> ClosedRange<UInt64>? {
        guard let net = network(for: family) else { return nil }
        let (lo, hi) = family == .v4 ? (subnetMin, subnetMax) : (ipv6SubnetMin, ipv6SubnetMax)
        guard let lo, let hi, let first = net.index(of: lo), let last = net.index(of: hi), first <= last else { return nil }
        return first...last
    }

    /// Number of subnets in the pool of `family` (0 when the family is disabled). Saturates at UInt64.max.
    public func poolSize(for family: IPFamily) -> UInt64 {
        guard let range = poolRange(for: family) else { return 0 }
        let (count, overflow) = (range.upperBound - range.lowerBound).addingReportingOverflow(1)
        return overflow ? .max : count
    }

    /// The n-th subnet of the pool of `family` (n from 0, starting at SubnetMin).
    public func poolSubnet(_ n: UInt64, family: IPFamily) -> IPPrefix? {
        guard let net = network(for: family), let range = poolRange(for: family) else { return nil }
        let (index, overflow) = range.lowerBound.addingReportingOverflow(n)
        guard !overflow, index <= range.upperBound else { return nil }
        return net.subnet(index, length: subnetLength(for: family))
    }

    /// Why `subnet` can not be a lease of this network, or nil when it can: inside the network,
    /// the configured length, and within SubnetMin...SubnetMax.
    public func problem(withLeaseSubnet subnet: IPPrefix) -> String? {
        let family = subnet.family
        guard let net = network(for: family) else { return "\(family.rawValue) is not enabled in the network config" }
        guard net.contains(subnet) else { return "\(subnet) is outside the network \(net)" }
        let length = subnetLength(for: family)
        guard subnet.length == length else { return "\(subnet) has length /\(subnet.length), the network uses /\(length)" }
        guard let range = poolRange(for: family), let index = net.index(of: subnet), range.contains(index) else {
            return "\(subnet) is outside SubnetMin...SubnetMax"
        }
        return nil
    }

    /// True when `subnet` is a valid lease subnet of this network.
    public func contains(leaseSubnet subnet: IPPrefix) -> Bool { problem(withLeaseSubnet: subnet) == nil }

    /// A short name of the pool of `family` for error messages: `10.244.0.0/16 SubnetLen 24`.
    public func poolDescription(for family: IPFamily) -> String {
        guard let net = network(for: family) else { return "(\(family.rawValue) disabled)" }
        return "\(net) \(family == .v4 ? "SubnetLen" : "IPv6SubnetLen") \(subnetLength(for: family))"
    }

    // MARK: Encodable, flannel's shape

    enum CodingKeys: String, CodingKey {
        case network = "Network", subnetLength = "SubnetLen", subnetMin = "SubnetMin", subnetMax = "SubnetMax"
        case enableIPv4 = "EnableIPv4", enableIPv6 = "EnableIPv6", ipv6Network = "IPv6Network"
        case ipv6SubnetLength = "IPv6SubnetLen", ipv6SubnetMin = "IPv6SubnetMin", ipv6SubnetMax = "IPv6SubnetMax"
        case backend = "Backend"
    }

    struct Backend: Encodable {
        var type: String
        enum CodingKeys: String, CodingKey { case type = "Type" }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(enableIPv4, forKey: .enableIPv4)
        try c.encode(enableIPv6, forKey: .enableIPv6)
        if let network {
            try c.encode(network, forKey: .network)
            try c.encode(subnetLength, forKey: .subnetLength)
            try c.encodeIfPresent(subnetMin.map { "\($0.address)" }, forKey: .subnetMin)
            try c.encodeIfPresent(subnetMax.map { "\($0.address)" }, forKey: .subnetMax)
        }
        if let ipv6Network {
            try c.encode(ipv6Network, forKey: .ipv6Network)
            try c.encode(ipv6SubnetLength, forKey: .ipv6SubnetLength)
            try c.encodeIfPresent(ipv6SubnetMin.map { "\($0.address)" }, forKey: .ipv6SubnetMin)
            try c.encodeIfPresent(ipv6SubnetMax.map { "\($0.address)" }, forKey: .ipv6SubnetMax)
        }
        try c.encode(Backend(type: backendType), forKey: .backend)
    }

    /// The config as pretty JSON in flannel's shape (what `config show` prints and the store keeps).
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    // MARK: validation helpers

    private static func family(
        _ root: [String: JSONValue], family: IPFamily, enabled: Bool,
        names: (network: String, length: String, min: String, max: String)
    ) throws(ConfigError) -> (network: IPPrefix?, length: Int, min: IPPrefix?, max: IPPrefix?) {
        let net = try prefix(root, names.network, family: family)
        guard let net else {
            if enabled {
                throw ConfigError(
                    field: names.network, value: "(missing)",
                    rule: "required when \(family == .v4 ? "EnableIPv4" : "EnableIPv6") is true")
            }
            return (nil, defaultSubnetLength(networkLength: family.bitWidth, family: family), nil, nil)
        }
        let maxLength = family.bitWidth - 2
        let length = try int(root, names.length) ?? defaultSubnetLength(networkLength: net.length, family: family)
        guard length >= net.length, length <= maxLength else {
            throw ConfigError(
                field: names.length, value: "\(length)",
                rule: "must be between \(net.length) and \(maxLength) for \(names.network) \(net)")
        }
        let total: UInt64 = length - net.length >= 63 ? UInt64(1) << 63 : UInt64(1) << UInt64(length - net.length)

        func bound(_ name: String, default index: UInt64) throws(ConfigError) -> IPPrefix {
            guard let text = try string(root, name) else {
                guard total >= 3, let p = net.subnet(index, length: length) else {
                    throw ConfigError(
                        field: names.length, value: "\(length)",
                        rule: "leaves \(total) subnet(s) in \(net); the default pool skips the first and last subnet, so it needs at least 3 (use a longer \(names.length) or set \(names.min)/\(names.max))")
                }
                return p
            }
            let addressText = text.split(separator: "/", maxSplits: 1).first.map(String.init) ?? text
            guard let address = IPAddress(addressText) else {
                throw ConfigError(field: name, value: text, rule: "must be an \(family.label) address")
            }
            guard address.family == family else {
                throw ConfigError(
                    field: name, value: text,
                    rule: "is an \(address.family.label) address but \(names.network) is \(family.label)")
            }
            if text.contains("/") {
                guard IPPrefix(text) != nil, text.hasSuffix("/\(length)") else {
                    throw ConfigError(field: name, value: text, rule: "must be a subnet address with length /\(length), or a plain address")
                }
            }
            guard net.contains(address) else {
                throw ConfigError(field: name, value: text, rule: "is outside \(names.network) \(net)")
            }
            guard let p = IPPrefix(address: address, length: length), p.address == address else {
                throw ConfigError(field: name, value: text, rule: "is not on a /\(length) subnet boundary (\(names.length) \(length))")
            }
            return p
        }
        let lo = try bound(names.min, default: 1)
        let hi = try bound(names.max, default: total - 2)
        guard lo <= hi else {
            throw ConfigError(field: names.min, value: "\(lo.address)", rule: "is greater than \(names.max) \(hi.address)")
        }
        return (net, length, lo, hi)
    }

    private static func prefix(_ object: [String: JSONValue], _ key: String, family: IPFamily) throws(ConfigError) -> IPPrefix? {
        guard let text = try string(object, key) else { return nil }
        guard let p = IPPrefix(text, strict: false) else {
            throw ConfigError(field: key, value: text, rule: "must be a network in CIDR form such as \(family == .v4 ? "10.244.0.0/16" : "fd00:1::/56")")
        }
        guard p.family == family else {
            let other = family == .v4 ? "IPv6Network" : "Network"
            throw ConfigError(
                field: key, value: text,
                rule: "is an \(p.family.label) network; \(key) takes \(family.label) (use \(other))")
        }
        guard IPPrefix(text, strict: true) != nil else {
            throw ConfigError(field: key, value: text, rule: "has host bits set; the network address is \(p)")
        }
        return p
    }

    private static func string(_ object: [String: JSONValue], _ key: String, path: String = "") throws(ConfigError) -> String? {
        guard let value = object[key], value != .null else { return nil }
        guard case .string(let s) = value else {
            throw ConfigError(field: path + key, value: value.text, rule: "must be a string, found \(value.typeName)")
        }
        return s
    }

    private static func int(_ object: [String: JSONValue], _ key: String) throws(ConfigError) -> Int? {
        guard let value = object[key], value != .null else { return nil }
        guard case .number(let d) = value, d.rounded() == d, abs(d) < 1e9 else {
            throw ConfigError(field: key, value: value.text, rule: "must be an integer, found \(value.typeName)")
        }
        return Int(d)
    }

    private static func bool(_ object: [String: JSONValue], _ key: String) throws(ConfigError) -> Bool? {
        guard let value = object[key], value != .null else { return nil }
        guard case .bool(let b) = value else {
            throw ConfigError(field: key, value: value.text, rule: "must be true or false, found \(value.typeName)")
        }
        return b
    }

    /// An unknown key is refused, with the likely intended key when there is one (`Suggestion`,
    /// the same rule as the agent's config file).
    private static func refuseUnknownKeys(_ object: [String: JSONValue], valid: [String], path: String) throws(ConfigError) {
        for key in object.keys.sorted() where !valid.contains(key) {
            let hint = Suggestion.closest(to: key, in: valid).map { "; did you mean \"\(path)\($0)\"?" } ?? ""
            throw ConfigError(
                field: path + key, value: object[key]?.text ?? "",
                rule: "unknown key\(hint) (valid keys: \(valid.joined(separator: ", ")))")
        }
    }
}

/// Just enough of JSON to check types and keys ourselves; Codable would accept `"24"` for a
/// number in places and hide unknown keys.
enum JSONValue: Sendable, Hashable, Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// The value as an operator would write it.
    var text: String {
        switch self {
        case .null: "null"
        case .bool(let b): "\(b)"
        case .number(let d): d.rounded() == d && abs(d) < 1e15 ? "\(Int64(d))" : "\(d)"
        case .string(let s): "\"\(s)\""
        case .array: "[...]"
        case .object: "{...}"
        }
    }
}
