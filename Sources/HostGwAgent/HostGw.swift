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
}
