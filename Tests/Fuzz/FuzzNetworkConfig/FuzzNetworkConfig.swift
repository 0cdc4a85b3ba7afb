// Fuzzes flannel's net-conf.json as it comes from the store (`config` key, `hostgw config set`):
// parse, and for what parses, everything the agent derives from it (pools, re-encoding).
import NetAddress
import SubnetLease
import Foundation
import FuzzSupport

@main
enum FuzzNetworkConfig {
    static func main() {
        fuzzMain { bytes in
            guard let config = try? NetworkConfig(json: Data(bytes)) else { return }
            for family in IPFamily.allCases where config.network(for: family) != nil {
                _ = config.poolDescription(for: family)
                let size = config.poolSize(for: family)
                for n in [0, 1, size / 2, size &- 1, size] { _ = config.poolSubnet(n, family: family) }
            }
            // What is written back must read back as the same config.
            if let data = try? config.jsonData() {
                guard let again = try? NetworkConfig(json: data), again == config else {
                    fatalError("config does not survive its own encoding: \(String(decoding: data, as: UTF8.self))")
                }
            }
        }
    }
}
