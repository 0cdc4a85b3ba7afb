import Foundation
import NetAddress
import SubnetLease
import Testing

/// The two pure rules: whose a lease is, and what a node does when its own key changes.
@Suite struct LeaseOwnershipTests {
    let a = LeaseHolder(id: "a", machineID: "m-a")
    let b = LeaseHolder(id: "b", machineID: "m-b")
    let key = "/coreos.com/network/subnets/10.244.5.0-24"

    func me(ip: String = "10.0.0.1") -> NodeIdentity {
        NodeIdentity(nodeName: "n1", publicIP: IPv4Address(ip), holder: a)
    }

    func attrs(name: String?, ip: String, holder: LeaseHolder?) -> LeaseAttributes {
        LeaseAttributes(publicIP: IPv4Address(ip), nodeName: name, agentVersion: "v", holder: holder)
    }

    @Test func ownHolderIsMineWhateverTheAddress() {
        #expect(LeaseOwnership.of(attrs(name: "n1", ip: "10.0.0.1", holder: a), key: key, for: me()) == .mine)
        // The node changed its IP: same holder, so it keeps (and updates) its lease.
        #expect(LeaseOwnership.of(attrs(name: "n1", ip: "10.0.0.9", holder: a), key: key, for: me()) == .mine)
    }

    @Test func sameNameOtherHolderOtherAddressIsNeverMine() {
        #expect(LeaseOwnership.of(attrs(name: "n1", ip: "10.0.0.2", holder: b), key: key, for: me()) == .sameNameOtherMachine)
        // Even when lease.json remembers the subnet (a cloned state dir).
        #expect(LeaseOwnership.of(attrs(name: "n1", ip: "10.0.0.2", holder: b), key: key, for: me(), remembered: key) == .sameNameOtherMachine)
    }

    @Test func otherHolderOnThisMachinesAddressIsThisMachineReinstalled() {
        #expect(LeaseOwnership.of(attrs(name: "n1", ip: "10.0.0.1", holder: b), key: key, for: me()) == .mine)
    }

    @Test func otherNamesAreOthers() {
        #expect(LeaseOwnership.of(attrs(name: "n2", ip: "10.0.0.2", holder: b), key: key, for: me()) == .other)
        #expect(LeaseOwnership.of(attrs(name: "n2", ip: "10.0.0.2", holder: nil), key: key, for: me()) == .other)
    }

    @Test func leasesWithoutHolder() {
        // flanneld's: no name, matched by address.
        #expect(LeaseOwnership.of(attrs(name: nil, ip: "10.0.0.1", holder: nil), key: key, for: me()) == .mine)
        #expect(LeaseOwnership.of(attrs(name: nil, ip: "10.0.0.2", holder: nil), key: key, for: me()) == .other)
        // An older hostgw's under our name: ours on our address, or when lease.json remembers it.
        #expect(LeaseOwnership.of(attrs(name: "n1", ip: "10.0.0.1", holder: nil), key: key, for: me()) == .mine)
        #expect(LeaseOwnership.of(attrs(name: "n1", ip: "10.0.0.7", holder: nil), key: key, for: me(), remembered: key) == .mine)
        #expect(LeaseOwnership.of(attrs(name: "n1", ip: "10.0.0.7", holder: nil), key: key, for: me()) == .sameNameOtherMachine)
    }

    // MARK: own key

    var own: LeaseAttributes { attrs(name: "n1", ip: "10.0.0.1", holder: a) }

    @Test func ownValueIsKept() {
        #expect(OwnKeyAction.decide(.value(own, hasTTL: true), own: own, isReservation: false) == .keep)
    }

    @Test func deletedKeyIsRecreated() {
        #expect(OwnKeyAction.decide(.absent, own: own, isReservation: false) == .recreate)
    }

    @Test func foreignValuesAreRestored() {
        // An operator's or a script's value: another PublicIP, no holder.
        let operatorValue = attrs(name: nil, ip: "10.0.0.99", holder: nil)
        guard case .restore = OwnKeyAction.decide(.value(operatorValue, hasTTL: true), own: own, isReservation: false) else {
            Issue.record("an operator's overwrite must be restored")
            return
        }
        guard case .restore = OwnKeyAction.decide(.unreadable(reason: "not JSON"), own: own, isReservation: false) else {
            Issue.record("garbage must be restored")
            return
        }
        // Our exact value, but put without a TTL (detached from our lease): it would never expire.
        guard case .restore = OwnKeyAction.decide(.value(own, hasTTL: false), own: own, isReservation: false) else {
            Issue.record("a TTL-less copy of our value must be restored")
            return
        }
        // Our holder and address, other content (edited by hand).
        var edited = own
        edited.backendType = "vxlan"
        guard case .restore = OwnKeyAction.decide(.value(edited, hasTTL: true), own: own, isReservation: false) else {
            Issue.record("an edited value on our own address must be restored")
            return
        }
    }

    @Test func anotherAgentsValueIsYieldedTo() {
        guard case .yield = OwnKeyAction.decide(.value(attrs(name: "n1", ip: "10.0.0.2", holder: b), hasTTL: true), own: own, isReservation: false)
        else {
            Issue.record("another holder's value must not be fought over")
            return
        }
        // A clone with a copied state dir: our holder on another address.
        guard case .yield = OwnKeyAction.decide(.value(attrs(name: "n1", ip: "10.0.0.2", holder: a), hasTTL: true), own: own, isReservation: false)
        else {
            Issue.record("our own holder on another address is a clone, not ours to overwrite")
            return
        }
    }

    @Test func reservationsAreTheOperators() {
        #expect(OwnKeyAction.decide(.absent, own: own, isReservation: true) == .keep)
        #expect(OwnKeyAction.decide(.value(attrs(name: nil, ip: "10.0.0.99", holder: nil), hasTTL: false), own: own, isReservation: true) == .keep)
    }

    @Test func holderIdIsKeptInTheStateDir() throws {
        let dir = try tempDirectory("holder")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let machineID = dir + "/machine-id"
        try Data("0123456789abcdef\n".utf8).write(to: URL(fileURLWithPath: machineID))
        let first = try LeaseHolder.load(stateDirectory: dir + "/state", machineIDPath: machineID)
        let again = try LeaseHolder.load(stateDirectory: dir + "/state", machineIDPath: machineID)
        #expect(first == again)
        #expect(first.machineID == "0123456789abcdef")
        let elsewhere = try LeaseHolder.load(stateDirectory: dir + "/other", machineIDPath: dir + "/none")
        #expect(elsewhere.id != first.id && elsewhere.machineID == nil)
        // The lease JSON carries it as an extra field flanneld ignores.
        let json = try JSONEncoder().encode(LeaseAttributes(publicIP: IPv4Address("10.0.0.1"), holder: first))
        let text = String(decoding: json, as: UTF8.self)
        #expect(text.contains("\"Holder\"") && text.contains("\"ID\""))
        #expect(try JSONDecoder().decode(LeaseAttributes.self, from: json).holder == first)
    }
}
