import NetAddress
import ArgumentParser
import Foundation
import Netlink
import SubnetLease

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Show or set the cluster's network config (flannel's net-conf.json) in the store.",
        subcommands: [Show.self, Set.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the stored network config as JSON, with defaults filled in.")
        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            let (s, _) = try storeOptions.settingsOrExit()
            try await withStore(s, access: .readOnly) { store in
                do {
                    let config = try await store.getConfig(keys: LeaseKeys(prefix: s.prefix))
                    print(String(decoding: try config.jsonData(), as: UTF8.self))
                } catch let e as ConfigError {
                    try fail("the config stored at \(s.prefix)/config is not usable: \(e)", code: ExitStatus.dataError)
                }
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a net-conf.json file and, only if it is valid, write it to the store.",
            discussion: "Use - to read the file from standard input.")
        @Argument(help: ArgumentHelp("The net-conf.json file, or - for standard input.", valueName: "file"))
        var file: String
        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            let (s, _) = try storeOptions.settingsOrExit()
            let data: Data
            if file == "-" {
                data = FileHandle.standardInput.readDataToEndOfFile()
            } else {
                guard let d = FileManager.default.contents(atPath: file) else {
                    try fail("cannot read \(file)", code: ExitStatus.usage)
                }
                data = d
            }
            // Validate before touching the store: a bad file changes nothing.
            do {
                _ = try NetworkConfig(json: data)
            } catch {
                try fail("\(file): \(error); nothing was written", code: ExitStatus.dataError)
            }
            try await withStore(s, access: .readWrite) { store in
                let config = try await store.putConfig(data, keys: LeaseKeys(prefix: s.prefix))
                let pools = [config.enableIPv4 ? config.poolDescription(for: .v4) : nil, config.enableIPv6 ? config.poolDescription(for: .v6) : nil]
                print("config written to \(s.prefix)/config: \(pools.compactMap { $0 }.joined(separator: "; "))")
            }
        }
    }
}
