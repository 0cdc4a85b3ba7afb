// Which machine holds a lease. The node name defaults to the hostname and cloned machines keep
// theirs, so a name alone cannot tell two machines apart: every lease hostgw writes also records
// a random id kept in the state dir and, where the machine has one, /etc/machine-id. flanneld
// ignores the extra JSON field.
import Foundation

/// The machine holding a lease, as written into its value (`"Holder": {"ID": ..., "MachineID": ...}`).
public struct LeaseHolder: Sendable, Hashable, Codable, CustomStringConvertible {
    /// A random id created once in the state dir (`holder-id`); survives restarts and reboots.
    public var id: String
    /// `/etc/machine-id` when the machine has one: a clone whose state dir was copied too still
    /// differs here once its machine id was regenerated.
    public var machineID: String?

    public init(id: String, machineID: String? = nil) {
        self.id = id
        self.machineID = machineID
    }

    enum CodingKeys: String, CodingKey {
        case id = "ID"
        case machineID = "MachineID"
    }

    public var description: String { machineID.map { "\(id) (machine-id \($0))" } ?? id }

    /// This machine's holder if its state dir has one already (for tools that must not create it:
    /// `hostgw status`, `hostgw leave`); nil otherwise.
    public static func existing(stateDirectory: String, machineIDPath: String = "/etc/machine-id") -> LeaseHolder? {
        let path = (stateDirectory as NSString).appendingPathComponent("holder-id")
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try? load(stateDirectory: stateDirectory, machineIDPath: machineIDPath)
    }

    /// The holder of this machine: the id in `<stateDirectory>/holder-id`, created (durably)
    /// when missing, plus the machine id read from `machineIDPath` when that file exists.
    public static func load(stateDirectory: String, machineIDPath: String = "/etc/machine-id") throws -> LeaseHolder {
        let path = (stateDirectory as NSString).appendingPathComponent("holder-id")
        let machineID = FileManager.default.contents(atPath: machineIDPath)
            .map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
            .flatMap { $0.isEmpty ? nil : $0 }
        if let data = FileManager.default.contents(atPath: path) {
            let id = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if !id.isEmpty { return LeaseHolder(id: id, machineID: machineID) }
        }
        let id = UUID().uuidString.lowercased()
        // Durably (DurableFile): an id lost to a power loss would make this machine's own lease
        // look like another machine's under the same name after the reboot.
        try DurableFile.replace(path, with: Data((id + "\n").utf8))
        return LeaseHolder(id: id, machineID: machineID)
    }
}
