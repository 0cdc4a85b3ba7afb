// isoTime (logs, status, check) spells a time exactly as ISO8601DateFormatter's internet date
// time did, without making a formatter per call.
import Foundation
import HostGwTestSupport
import Testing

@testable import HostGwAgent

@Suite struct TimeFormatTests {
    @Test func isoTimeMatchesTheFoundationFormatter() {
        let reference = ISO8601DateFormatter()
        reference.formatOptions = [.withInternetDateTime]
        var rng = SplitMix(seed: 7)
        var dates = [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 951_782_400.999), Date(timeIntervalSince1970: 4_102_444_799.5)]
        for _ in 0..<2000 { dates.append(Date(timeIntervalSince1970: Double(rng.next() % 4_102_444_800) + Double(rng.next() % 1000) / 1000)) }
        for d in dates { #expect(isoTime(d) == reference.string(from: d), "\(d.timeIntervalSince1970)") }
        #expect(isoTime(Date(timeIntervalSince1970: 1_796_289_080)) == "2026-12-03T09:11:20Z")
    }
}
