// Whose a lease is, and what this node does when its own key changes behind its back. Pure
// decisions, the one home of both rules: acquire, renewal, the own-key watch and `hostgw leave`
// ask here.
import NetAddress

/// A lease as seen from one node.
public enum LeaseOwnership: Sendable, Hashable {
    /// This machine's lease.
    case mine
    /// A lease under this node's name that another machine holds: it is never taken over.
    case sameNameOtherMachine
    /// Another node's lease.
    case other

    /// - Parameters:
    ///   - remembered: the lease key this machine's `lease.json` remembers, if any; it tells an
    ///     old lease without a holder that this machine held (before its IP changed) from one a
    ///     second machine with the same name holds.
    public static func of(_ attributes: LeaseAttributes, key: String, for me: NodeIdentity, remembered: String? = nil) -> LeaseOwnership {
        let sameAddress = Self.sameAddress(attributes, me)
        if let holder = attributes.holder {
            // The same machine, whatever its IP is now (a node that changed its IP keeps its lease).
            if let mine = me.holder, holder == mine { return .mine }
            let sameName = attributes.nodeName.map { $0 == me.nodeName } ?? sameAddress
            guard sameName else { return .other }
            // Another holder on this machine's own IP: this machine, reinstalled with a new state
            // dir (two live machines cannot share one IP on the nodes' segment).
            return sameAddress ? .mine : .sameNameOtherMachine
        }
        // Written by flanneld (no name: matched by IP) or by a hostgw that did not record holders.
        guard let name = attributes.nodeName else { return sameAddress ? .mine : .other }
        guard name == me.nodeName else { return .other }
        return sameAddress || remembered == key ? .mine : .sameNameOtherMachine
    }

    /// True when the lease routes through one of this node's public addresses.
    public static func sameAddress(_ attributes: LeaseAttributes, _ me: NodeIdentity) -> Bool {
        if let ip = attributes.publicIP, let mine = me.publicIP { return ip == mine }
        if let ip = attributes.publicIPv6, let mine = me.publicIPv6 { return ip == mine }
        return false
    }
}

/// This node's own key as the store (or a snapshot) shows it now.
public enum OwnKeyObservation: Sendable, Hashable {
    case absent
    /// The key holds something that is not a lease (bad JSON, no PublicIP).
    case unreadable(reason: String)
    /// A lease value; `hasTTL` false when the key was rewritten without one (`etcdctl put`).
    case value(LeaseAttributes, hasTTL: Bool)
}

/// What the node does about its own key.
public enum OwnKeyAction: Sendable, Hashable {
    /// The key holds this node's own value: nothing to do.
    case keep
    /// The key is gone: create it again (create-if-absent, same key, same subnet).
    case recreate
    /// The key holds a value no live hostgw agent wrote for itself (an operator, a script,
    /// flanneld, garbage): write this node's own value back. `found` says what was there.
    case restore(found: String)
    /// Another hostgw agent holds the key: never fight it over the subnet.
    case yield(to: String)

    /// Decides from what the key holds now. A reservation (a key without TTL written by the
    /// operator) is the operator's to change, so it is always kept.
    public static func decide(_ observed: OwnKeyObservation, own: LeaseAttributes, isReservation: Bool) -> OwnKeyAction {
        if isReservation { return .keep }
        switch observed {
        case .absent:
            return .recreate
        case .unreadable(let reason):
            return .restore(found: "not a lease (\(reason))")
        case .value(let found, let hasTTL):
            // The identity, not the report: a report that lags behind a publish is still ours.
            if found.identity == own.identity { return hasTTL ? .keep : .restore(found: "this node's value without a TTL") }
            let writer = describe(found)
            if let holder = found.holder {
                if holder != own.holder { return .yield(to: "\(writer), holder \(holder)") }
                // Our own holder id on another address: a clone of this machine (copied state
                // dir) is running; fighting it would flap the subnet between the two.
                if found.publicIP != own.publicIP || found.publicIPv6 != own.publicIPv6 {
                    return .yield(to: "\(writer) with this machine's own holder id (a clone with a copied state dir?)")
                }
            }
            return .restore(found: writer)
        }
    }

    static func describe(_ a: LeaseAttributes) -> String {
        let ips = [a.publicIP?.description, a.publicIPv6?.description].compactMap { $0 }
        return "\(a.nodeName.map { "node \($0)" } ?? "no node name") at \(ips.isEmpty ? "no address" : ips.joined(separator: " "))"
    }
}
