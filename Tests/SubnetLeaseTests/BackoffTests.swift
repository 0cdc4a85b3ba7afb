import SubnetLease
import Testing

@Suite struct BackoffTests {
    @Test func doublesFromInitialUpToTheMaximumAndResets() {
        var b = Backoff(initial: .milliseconds(200), maximum: .seconds(1))
        #expect([b.fail(), b.fail(), b.fail(), b.fail(), b.fail()] == [.milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)])
        #expect(b.failures == 5)
        b.reset()
        #expect(b.fail() == .milliseconds(200))
        // No overflow however long the outage.
        #expect(Backoff(initial: .seconds(1), maximum: .seconds(60)).delay(afterFailures: 10_000) == .seconds(60))
        #expect(Backoff().delay(afterFailures: 0) == .milliseconds(200))
    }
}
