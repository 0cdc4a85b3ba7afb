// Fuzzes the agent's config file (`--config`, HOSTGW_CONFIG): a JSON object of flag names.
// SettingsFile.swift and ExitStatus.swift are the agent's own files (symlinks into
// Sources/HostGwAgent/Settings), so the fuzzer runs exactly the code `hostgw` runs.
import Foundation
import FuzzSupport

@main
enum FuzzSettingsFile {
    static func main() {
        fuzzMain { bytes in
            _ = try? SettingsFile.parse(Data(bytes), path: "/etc/hostgw/config.json")
        }
    }
}
