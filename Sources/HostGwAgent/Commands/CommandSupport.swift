// What every command shares: turning settings errors into exit codes, and opening the store.
import ArgumentParser
import Foundation
import Logging
import SubnetLease

/// Prints `hostgw: message` on stderr and exits with `code`. Nothing has been written by then.
func fail(_ message: String, code: Int32) -> Never {
    FileHandle.standardError.write(Data("hostgw: \(message)\n".utf8))
    exit(code)
}

/// Resolves settings; a SettingError exits with its code (64 for flags, 78 for env/config file).
func resolveOrExit<T>(config: String?, _ body: (SettingsResolver) throws -> T) -> T {
    do {
        return try body(try SettingsResolver(configPath: config))
    } catch let e as SettingError {
        fail(e.description, code: e.exitCode)
    } catch {
        fail("\(error)", code: ExitStatus.config)
    }
}

extension StoreOptions {
    /// The store settings for an admin command, or exit with a clear message.
    func settingsOrExit() -> (StoreSettings, SettingsResolver) {
        do {
            let r = try resolver()
            return (try StoreSettings(self, r), r)
        } catch let e as SettingError {
            fail(e.description, code: e.exitCode)
        } catch {
            fail("\(error)", code: ExitStatus.config)
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
