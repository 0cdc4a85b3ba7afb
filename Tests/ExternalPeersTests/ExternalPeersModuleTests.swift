import ExternalPeers
import Testing

@Suite struct ExternalPeersModuleTests {
    @Test func moduleLinks() {}
}
