// Fuzzes one store entry as the lease decoder sees it: the key suffix (a subnet key such as
// 10.244.3.0-24) and the JSON value, against a dual-stack and an IPv4-only network config.
// Input layout: key bytes, a NUL, value bytes (no NUL: the whole input is the value of a
// fixed valid key).
import Foundation
import FuzzSupport
@testable import SubnetLease

@main
enum FuzzLeaseValue {
    static let keys = LeaseKeys()
    static let configs: [NetworkConfig] = [
        #"{"Network": "10.244.0.0/16", "SubnetLen": 24}"#,
        #"{"Network": "10.244.0.0/16", "EnableIPv6": true, "IPv6Network": "fd00:10:244::/56", "IPv6SubnetLen": 64}"#,
    ].compactMap { try? NetworkConfig(json: Data($0.utf8)) }

    static func main() {
        precondition(configs.count == 2, "the fuzzer's network configs must parse")
        fuzzMain { bytes in
            let suffix: String
            let value: Data
            if let nul = bytes.firstIndex(of: 0) {
                suffix = String(decoding: bytes[..<nul], as: UTF8.self)
                value = Data(bytes[(nul + 1)...])
            } else {
                suffix = "10.244.3.0-24"
                value = Data(bytes)
            }
            _ = Lease.parseKey(suffix)
            let entry = StoreEntry(key: keys.subnets + suffix, value: value, createRevision: 1, modRevision: 1, ttlHandle: 1, expiration: nil)
            let other = StoreEntry(key: keys.subnets + "10.244.3.0-24", value: value, createRevision: 2, modRevision: 2, expiration: nil)
            for config in configs {
                let decoder = LeaseDecoder(config: config, keys: keys)
                _ = decoder.decode(entry)
                _ = decoder.snapshot(entries: [entry, other], revision: 2)
            }
        }
    }
}
