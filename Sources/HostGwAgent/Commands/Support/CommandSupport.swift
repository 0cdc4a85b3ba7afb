// What every command shares: turning settings errors into exit codes, and the admin logger.
// Opening the store is in StoreOpening.swift.
import NetAddress
import ArgumentParser
import Foundation
import Logging
import SubnetLease

/// Prints `hostgw: message` on stderr and ends the command with exit status `code`, by throwing
/// argument-parser's `ExitCode` (which prints nothing more): the error unwinds the stack, so every
/// `defer` and every close on the way out (the store, netlink) still runs. Nothing has been
/// written to stdout by then.
func fail(_ message: String, code: Int32) throws -> Never {
    FileHandle.standardError.write(Data("hostgw: \(message)\n".utf8))
    throw ExitCode(code)
}

/// `body`'s value; a SettingError ends the command with its code (64 for flags, 78 for env or
/// config file), any other error with 78.
func settingOrExit<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as SettingError {
        try fail(e.description, code: e.exitCode)
    } catch {
        try fail("\(error)", code: ExitStatus.config)
    }
}

/// Resolves settings from flags, environment and the config file `config`, or ends the command.
func resolveOrExit<T>(config: String?, _ body: (SettingsResolver) throws -> T) throws -> T {
    try settingOrExit {
        let r = try SettingsResolver(configPath: config)
        r.printWarnings()
        return try body(r)
    }
}

extension SettingsResolver {
    /// The resolver's warnings on stderr (the journal, under systemd), before logging starts.
    func printWarnings() {
        for w in warnings { FileHandle.standardError.write(Data("hostgw: \(w)\n".utf8)) }
    }
}

extension StoreOptions {
    /// The store settings for an admin command, or end the command with a clear message.
    func settingsOrExit() throws -> (StoreSettings, SettingsResolver) {
        try settingOrExit {
            let r = try resolver()
            r.printWarnings()
            return (try StoreSettings(self, r), r)
        }
    }
}

/// A logger for admin commands: warnings and worse, on stderr, so stdout stays a clean document.
func adminLogger() -> Logger {
    var l = Logger(label: "hostgw") { LineLogHandler(label: $0, format: .text) }
    l.logLevel = .warning
    return l
}
