import ArgumentParser

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the hostgw version.")

    func run() throws {
        print("hostgw \(BuildInfo.version)")
    }
}
