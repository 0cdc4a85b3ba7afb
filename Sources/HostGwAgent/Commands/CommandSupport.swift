// What every command shares: turning settings errors into exit codes, and opening the store.
import NetAddress
import ArgumentParser
import Foundation
import Logging
import SubnetLease

/// Prints `hostgw: message` on stderr and exits with `code`. Nothing has been written by then.
func fail(_ message: String, code: Int32) -> Never {
    FileHandle.standardError.write(Data("hostgw: \(message)\n".utf8))
    exit(code)
}

/// `body`'s value; a SettingError exits with its code (64 for flags, 78 for env/config file), any
/// other error with 78.
func settingOrExit<T>(_ body: () throws -> T) -> T {
    do {
        return try body()
    } catch let e as SettingError {
        fail(e.description, code: e.exitCode)
    } catch {
        fail("\(error)", code: ExitStatus.config)
    }
}

/// Resolves settings from flags, environment and the config file `config`, or exits.
func resolveOrExit<T>(config: String?, _ body: (SettingsResolver) throws -> T) -> T {
    settingOrExit { try body(try SettingsResolver(configPath: config)) }
}

extension StoreOptions {
    /// The store settings for an admin command, or exit with a clear message.
    func settingsOrExit() -> (StoreSettings, SettingsResolver) {
        settingOrExit {
            let r = try resolver()
            return (try StoreSettings(self, r), r)
        }
    }
}

/// Opens the configured store.
func makeStore(_ s: StoreSettings, logger: Logger) throws -> any SubnetStore {
    switch s.backend {
    case .embedded(let path):
        return try EmbeddedStore(path: path, logger: logger)
    case .etcd(let e):
        return try EtcdStore(
            options: EtcdOptions(
                endpoints: e.endpoints.map(\.absoluteString), caFile: e.caFile, certFile: e.certFile, keyFile: e.keyFile,
                username: e.username, password: e.password, requestTimeout: e.timeout),
            logger: logger)
    }
}

/// A logger for admin commands: warnings and worse, on stderr, so stdout stays a clean document.
func adminLogger() -> Logger {
    var l = Logger(label: "hostgw") { StreamLogHandler.standardError(label: $0) }
    l.logLevel = .warning
    return l
}
