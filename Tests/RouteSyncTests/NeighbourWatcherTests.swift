import Foundation
import HostGwTestSupport
import MetricsTestKit
import NetAddress
import Netlink
@testable import RouteSync
import Synchronization
import Testing

/// The neighbour watcher over a fake kernel: only the peers' gateways are followed, a FAILED entry
/// is a verdict pushed at once (a routine REACHABLE -> STALE is not), a gateway whose link-layer
/// address changes is counted, and lost notifications mean a re-dump.
@Suite struct NeighbourWatcherTests {
    final class FakeNeighbours: NeighbourAccess {
        let entries = Mutex<[Neighbour]>([])
        let dumps = Mutex(0)
        func neighbours(family: IPFamily) async throws -> [Neighbour] {
            dumps.withLock { $0 += 1 }
            return entries.withLock { $0 }.filter { $0.address.family == family }
        }
    }

    let b = IPAddress.v4(IPv4Address(10, 0, 0, 2))
    let c = IPAddress.v4(IPv4Address(10, 0, 0, 3))
    func n(_ a: IPAddress, _ state: NeighbourState, _ mac: UInt8? = 1) -> Neighbour {
        Neighbour(interfaceIndex: 2, address: a, linkAddress: mac.map { [2, 0, 0, 0, 0, $0] }, state: state)
    }

    @Test func verdictsAndMovedGateways() async throws {
        let fake = FakeNeighbours()
        let metrics = TestMetrics()
        fake.entries.withLock { $0 = [n(b, .reachable), n(c, .reachable), n(.v4(IPv4Address(10, 0, 0, 99)), .failed, nil)] }
        let w = NeighbourWatcher(families: [.v4], access: fake, clock: ManualClock(), metrics: metrics, logger: quietLogger)
        await w.setGateways([b: "b", c: "c"])
        await w.refresh()
        var current = await w.current()
        #expect(current.count == 2)  // 10.0.0.99 is nobody's gateway
        #expect(current[b]?.state == "REACHABLE" && current[b]?.unresolved == false)
        #expect(metrics.gauge("hostgw_peer_neighbours_unresolved") == 0)

        var updates = await w.updates().makeAsyncIterator()
        _ = await updates.next()  // the current value first
        await w.handle(.neighbourChanged(n(c, .stale)))
        await w.handle(.neighbourChanged(n(c, .failed, nil)))
        let pushed = await updates.next()
        #expect(pushed?[c]?.unresolved == true)
        #expect(pushed?[c]?.state == "FAILED")
        #expect(metrics.gauge("hostgw_peer_neighbours_unresolved") == 1)

        // c answers again from another machine: the move across the FAILED entry counts (1 -> 7),
        // and so does the next one (7 -> 8).
        await w.handle(.neighbourChanged(n(c, .reachable, 7)))
        #expect(metrics.counter("hostgw_peer_gateway_lladdr_changes_total") == 1)
        await w.handle(.neighbourChanged(n(c, .reachable, 8)))
        #expect(metrics.counter("hostgw_peer_gateway_lladdr_changes_total") == 2)
        await w.handle(.neighbourChanged(n(c, .reachable, 8)))
        #expect(metrics.counter("hostgw_peer_gateway_lladdr_changes_total") == 2, "the same address again is no move")
        current = await w.current()
        #expect(current[c]?.linkAddress == "02:00:00:00:00:08")

        // Removed: no entry, no verdict either way. Lost notifications: read again.
        await w.handle(.neighbourRemoved(n(c, .reachable, 8)))
        #expect(await w.current()[c]?.state == nil)
        let before = fake.dumps.withLock { $0 }
        await w.handle(.overrun)
        #expect(fake.dumps.withLock { $0 } == before + 1)
        #expect(await w.current()[c]?.state == "REACHABLE")
        // The re-dump found c at its first address again (8 -> 1): across a removed entry, too.
        #expect(metrics.counter("hostgw_peer_gateway_lladdr_changes_total") == 3)
        // A gateway no longer followed forgets its address: following it again starts afresh.
        await w.setGateways([b: "b"])
        await w.setGateways([b: "b", c: "c"])
        await w.handle(.neighbourChanged(n(c, .reachable, 9)))
        #expect(metrics.counter("hostgw_peer_gateway_lladdr_changes_total") == 3)
    }
}
