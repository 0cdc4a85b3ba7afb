import NetAddress
import ArgumentParser
import Foundation
import Netlink
import SubnetLease

struct LeasesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leases",
        abstract: "List every lease in the store: subnet, node, public IP, expiry, reservation.",
        discussion: "Entries that are not valid leases of the network are listed after the leases, with the reason.")

    @OptionGroup var storeOptions: StoreOptions
    @Flag(help: "Print JSON instead of a table.") var json = false

    struct Row: Encodable {
        var subnet: String?
        var ipv6Subnet: String?
        var node: String?
        var publicIP: String?
        var publicIPv6: String?
        var expiration: Date?
        var reservation: Bool
        var backendType: String
    }

    struct Skipped: Encodable {
        var key: String
        var reason: String
    }

    struct Document: Encodable {
        var store: String
        var revision: Int64
        var leases: [Row]
        var skipped: [Skipped]
    }

    func run() async throws {
        let (s, _) = try storeOptions.settingsOrExit()
        try await withStore(s, access: .readOnly) { store in
            let keys = LeaseKeys(prefix: s.prefix)
            let config = try await store.getConfig(keys: keys)
            let snap = try await store.listLeases(config: config, keys: keys, expiries: .all)
            let rows = snap.leases.sorted { ($0.subnet ?? $0.ipv6Subnet).map(\.description) ?? "" < ($1.subnet ?? $1.ipv6Subnet).map(\.description) ?? "" }
                .map { l in
                    Row(
                        subnet: l.subnet?.description, ipv6Subnet: l.ipv6Subnet?.description, node: l.attributes.nodeName,
                        publicIP: l.attributes.publicIP?.description, publicIPv6: l.attributes.publicIPv6?.description,
                        expiration: l.expiration, reservation: l.isReservation, backendType: l.attributes.backendType)
                }
            let skipped = snap.skipped.map { Skipped(key: $0.key, reason: $0.reason) }
            if json {
                let e = JSONEncoder()
                e.dateEncodingStrategy = .iso8601
                e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try e.encode(Document(store: s.summary, revision: snap.revision, leases: rows, skipped: skipped)), as: UTF8.self))
                return
            }
            let now = Date()
            let lines = table(
                ["SUBNET", "IPV6 SUBNET", "NODE", "PUBLIC IP", "EXPIRES"],
                rows.map { r in
                    [r.subnet ?? "-", r.ipv6Subnet ?? "-", r.node ?? "(flanneld)", [r.publicIP, r.publicIPv6].compactMap { $0 }.joined(separator: " "),
                     r.reservation ? "reservation" : r.expiration.map { "\(isoTime($0)) (in \(humanSpan($0.timeIntervalSince(now))))" } ?? "-"]
                })
            print(lines.joined(separator: "\n"))
            print("\(rows.count) lease(s) in \(s.summary) at revision \(snap.revision)")
            for k in skipped { print("skipped \(displaySafe(k.key)): \(displaySafe(k.reason, limit: 1024))") }
        }
    }
}
