// The `hostgw` executable: wires the libraries into a daemon and admin commands. It holds no
// routing or lease logic of its own.
import ArgumentParser

@main
struct HostGw: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hostgw",
        abstract: "Host-gw pod networking: lease a pod subnet, route to every peer, report drift.",
        version: BuildInfo.version,
        subcommands: [
            RunCommand.self,
            StatusCommand.self,
            CheckCommand.self,
            LeasesCommand.self,
            ConfigCommand.self,
            LeaveCommand.self,
            RoutesCommand.self,
            ExternalSyncCommand.self,
            VersionCommand.self,
            BenchCommand.self,
        ]
    )

    /// The long-running commands get the agent's malloc settings before anything else runs:
    /// glibc gives each thread an arena of its own at its first allocation, and a limit set
    /// later does not take those back (the async runtime's threads start before `run()`).
    static func main() async {
        if let command = CommandLine.arguments.dropFirst().first, ["run", "external-sync"].contains(command) {
            tuneMallocForAgent()
        }
        await main(nil)
    }
}
