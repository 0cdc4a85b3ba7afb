import RouteSync
import Testing

@Suite struct RouteSyncModuleTests {
    @Test func moduleLinks() {}
}
