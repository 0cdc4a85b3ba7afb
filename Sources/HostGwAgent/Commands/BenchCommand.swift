import ArgumentParser

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print figures beside anchors measured in the same run.",
        subcommands: [BenchNetlinkCommand.self, BenchLeasesCommand.self, BenchProbeCommand.self]
    )
}
