import ArgumentParser
import Foundation
import SubnetLease

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "What this node leased, the store's health, every peer and its route state, recent drift.",
        discussion: """
            Asks the running agent on its loopback listener. When the agent is not running, reads the \
            store and the kernel itself and says so.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var node: NodeQueryOptions
    @Flag(help: "Print the status document as JSON (field names are stable).") var json = false
    @Flag(help: "Every node of the cluster: subnet, IPs, agent version, MTU, published conditions, this node's route to it and whether this node reaches it.")
    var cluster = false

    func run() async throws {
        let report = try await fetchReport(storeOptions, node)
        if cluster {
            let (s, _) = try storeOptions.settingsOrExit()
            try await withStore(s, access: .readOnly) { store in
                let keys = LeaseKeys(prefix: s.prefix)
                let snapshot = try await store.listLeases(config: try await store.getConfig(keys: keys), keys: keys)
                let doc = ClusterStatusReport.make(snapshot: snapshot, local: report, store: s.summary)
                print(json ? String(decoding: try doc.jsonData(), as: UTF8.self) : renderCluster(doc), terminator: json ? "\n" : "")
            }
            return
        }
        if json {
            print(String(decoding: try report.jsonData(), as: UTF8.self))
        } else {
            print(renderStatus(report), terminator: "")
        }
    }
}

/// The agent's report, or the one computed without it.
func fetchReport(_ storeOptions: StoreOptions, _ node: NodeQueryOptions) async throws -> NodeStatusReport {
    let (s, r) = try storeOptions.settingsOrExit()
    let q = try settingOrExit { try NodeQuery(node, r) }
    if let live = await StatusSource.fromAgent(q) { return live }
    return await StatusSource.offline(q, store: s)
}
