// The network config in the store (`<prefix>/config`, flannel's net-conf.json): read and
// validated, or validated and written. What `hostgw config show/set` and the agent's start use.
public import Foundation

extension SubnetStore {
    /// Validates `json` as a network config and stores it at `<prefix>/config` (only if valid).
    @discardableResult
    public func putConfig(_ json: Data, keys: LeaseKeys = LeaseKeys()) async throws -> NetworkConfig {
        let config = try NetworkConfig(json: json)
        _ = try await put(key: keys.config, value: json)
        return config
    }

    /// The stored network config, validated; `ConfigError` with field `(store)` when none is stored.
    public func getConfig(keys: LeaseKeys = LeaseKeys()) async throws -> NetworkConfig {
        guard let entry = try await get(key: keys.config) else {
            throw ConfigError(field: "(store)", value: keys.config, rule: "no network config is stored; write one with `hostgw config set`")
        }
        return try NetworkConfig(json: entry.value)
    }
}
