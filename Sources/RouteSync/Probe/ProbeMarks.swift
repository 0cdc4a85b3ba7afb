// Which firewall mark the agent's own pod-path probes (and its probe replies) carry, so that they
// take the route pods take. With hostgw's routes in the main table they need none. With
// `--table T`, local pods reach T through the operator's `ip rule`; a socket of the agent matches
// a rule on `from` (it is bound to the pod gateway), but not one on `iif cni0`, and one on
// `fwmark` only if it carries the mark. Unmarked, a probe would follow the main table (say a
// default route on another interface) and be lost while pods reach each other fine: a false
// "unreachable". The choice is made here, from the rules, and nowhere else.
public import NetAddress
public import Netlink

public struct ProbeMarks: Sendable, Hashable, CustomStringConvertible {
    /// What a family's pod-path probes do to reach the route table.
    public enum Way: Sendable, Hashable {
        /// Unmarked traffic from the pod gateway reaches the table (main, or a `from` rule).
        case unmarked
        /// Traffic carrying this mark does, through `rule`.
        case mark(UInt32, rule: RoutingRule)
        /// No rule leads this node's own traffic from the pod gateway to the table: pod-path
        /// probes follow the main table (`caughtBy`, the rule that takes them) instead.
        case noRule(caughtBy: RoutingRule?)
    }

    public var ways: [IPFamily: Way]

    public init(ways: [IPFamily: Way] = [:]) { self.ways = ways }

    /// The mark sockets of `family` carry (SO_MARK); nil for none.
    public func mark(_ family: IPFamily) -> UInt32? {
        if case .mark(let mark, _)? = ways[family] { return mark }
        return nil
    }

    public var description: String {
        let parts = IPFamily.allCases.compactMap { family -> String? in
            switch ways[family] {
            case nil, .unmarked?: return nil
            case .mark(let mark, let rule)?: return "\(family.rawValue) fwmark 0x\(String(mark, radix: 16)) (ip rule \(rule))"
            case .noRule(let rule)?: return "\(family.rawValue) no mark reaches the table (taken by ip rule \(rule.map(\.description) ?? "none"))"
            }
        }
        return parts.isEmpty ? "unmarked" : parts.joined(separator: "; ")
    }

    /// For each family of `podSubnets` (this node's own), how a probe sent from its pod gateway
    /// reaches `table`. Rules are walked as the kernel walks them for locally sent traffic: by
    /// priority; `iif lo` matches, any other `iif` and every `oif` do not (the sockets are not
    /// bound to a device); `from` must contain the subnet. A lookup in `table` ends the walk
    /// with success, one in `local` falls through (it holds no route to a peer's pods), one in
    /// main or default ends it without (they hold the default route); other tables are taken to
    /// hold no route to the pod network and fall through. Unmarked is tried first, then the
    /// marks of the rules that look up `table`.
    public static func choose(rules: [RoutingRule], table: UInt32, podSubnets: [IPPrefix]) -> ProbeMarks {
        var ways: [IPFamily: Way] = [:]
        for subnet in podSubnets {
            let family = subnet.address.family
            if table == RouteTableID.main {
                ways[family] = .unmarked
                continue
            }
            let ordered = rules.filter { $0.family == family }.sorted { $0.priority < $1.priority }
            func walk(mark: UInt32) -> (reaches: Bool, stoppedBy: RoutingRule?) {
                for rule in ordered where matches(rule, subnet: subnet, mark: mark) {
                    switch rule.action {
                    case .lookup where rule.table == table: return (true, rule)
                    case .lookup where rule.table == RouteTableID.main || rule.table == RouteTableID.default: return (false, rule)
                    case .lookup, .goto, .nop: continue
                    case .other: return (false, rule)  // blackhole, unreachable, prohibit
                    }
                }
                return (false, nil)
            }
            let unmarked = walk(mark: 0)
            if unmarked.reaches {
                ways[family] = .unmarked
                continue
            }
            let candidates = ordered.compactMap { rule -> (UInt32, RoutingRule)? in
                guard rule.action == .lookup, rule.table == table, !rule.inverted, let mark = rule.fwmark, mark != 0 else { return nil }
                return (mark, rule)
            }
            if let (mark, rule) = candidates.first(where: { walk(mark: $0.0).reaches }) {
                ways[family] = .mark(mark, rule: rule)
            } else {
                ways[family] = .noRule(caughtBy: unmarked.stoppedBy)
            }
        }
        return ProbeMarks(ways: ways)
    }

    private static func matches(_ rule: RoutingRule, subnet: IPPrefix, mark: UInt32) -> Bool {
        var hit = true
        if let iif = rule.inputInterface, iif != "lo" { hit = false }
        if rule.outputInterface != nil { hit = false }
        if let source = rule.source, !source.contains(subnet) { hit = false }
        if let fwmark = rule.fwmark, mark & (rule.fwmask ?? .max) != fwmark { hit = false }
        return rule.inverted ? !hit : hit
    }
}
