import Foundation
import Limits
import Testing

/// Gateways sharing one limit through a real redis-server: the bound holds across them, and each fail mode
/// does what it says while Redis is stopped, and stops doing it when Redis is back.
@Suite("Shared rate limit across gateways", .serialized)
struct SharedRateLimitTests {
    /// 50 a second with a burst of 100: ten seconds allow about 600 requests.
    static let policy = RateLimitPolicy(requestsPerMinute: 3_000, burst: 100)

    /// GCRA's bound for one key over `elapsed` seconds: the capacity at once, then one per interval.
    static func bound(_ policy: RateLimitPolicy, elapsed: Double) -> Double {
        Double(policy.capacity) + elapsed * 1e9 / Double(policy.emissionIntervalNanoseconds)
    }

    @Test("three gateways hammered for 10 s accept within 2% of burst + rate × elapsed, together")
    func threeGatewaysOneLimit() throws {
        let harness = try SharedLimitHarness(count: 3, policy: Self.policy, mode: .closed, instances: 3)
        defer { harness.shutdown() }

        let hammer = Hammer(ports: harness.gateways.map(\.port), perGateway: 2)
        usleep(10_000_000)
        let answers = hammer.stop()

        let accepted = answers.filter { $0.status == 200 }
        let first = try #require(answers.first?.sent)
        let last = try #require(answers.map(\.time).max())
        let expected = Self.bound(Self.policy, elapsed: last.timeIntervalSince(first))
        #expect(
            abs(Double(accepted.count) - expected) <= 0.02 * expected,
            "accepted \(accepted.count), expected \(expected)")
        #expect(answers.allSatisfy { $0.status == 200 || $0.status == 429 })
        // Every gateway took part in admitting and in refusing: one limit, not three.
        for gateway in 0..<3 {
            #expect(accepted.contains { $0.gateway == gateway }, "gateway \(gateway) accepted none")
            #expect(answers.contains { $0.gateway == gateway && $0.status == 429 }, "gateway \(gateway) refused none")
        }
        #expect(answers.count > accepted.count * 2, "the clients must outpace the limit: \(answers.count) answers")
    }

    @Test("closed: with Redis stopped mid-load every request gets 503; after a restart the shared limit is back")
    func closedMode() throws {
        let harness = try SharedLimitHarness(count: 3, policy: Self.policy, mode: .closed, instances: 3)
        defer { harness.shutdown() }
        let hammer = Hammer(ports: harness.gateways.map(\.port), perGateway: 1)

        usleep(1_000_000)
        harness.redis.stop()
        let stopped = Date()
        usleep(2_000_000)
        let restarting = Date()
        try harness.redis.start()
        usleep(4_000_000)
        let answers = hammer.stop()

        let during = answers.filter { $0.sent > stopped && $0.time < restarting }
        #expect(during.count > 50)
        #expect(during.allSatisfy { $0.status == 503 }, "statuses: \(Set(during.map(\.status)))")
        let before = answers.filter { $0.time < stopped }
        #expect(before.contains { $0.status == 200 } && before.contains { $0.status == 429 })

        // Back by itself: after the circuit's probe, Redis decides again for all three gateways together.
        let after = answers.filter { $0.sent > restarting }
        let resumed = try #require(after.first { $0.status != 503 }, "no gateway recovered")
        let window = after.filter { $0.sent >= resumed.sent }
        let accepted = window.filter { $0.status == 200 }.count
        let elapsed = (window.last?.time ?? resumed.time).timeIntervalSince(resumed.sent)
        #expect(accepted <= Int(Self.bound(Self.policy, elapsed: elapsed) * 1.02) + 1, "accepted \(accepted)")
        #expect(window.contains { $0.status == 429 }, "the shared limit refuses again")
        #expect(resumed.sent.timeIntervalSince(restarting) < 3, "recovery took too long")
    }

    @Test("open: with Redis stopped requests pass and rate_limit_backend_errors_total counts")
    func openMode() throws {
        let harness = try SharedLimitHarness(count: 3, policy: Self.policy, mode: .open, instances: 3)
        defer { harness.shutdown() }
        let hammer = Hammer(ports: harness.gateways.map(\.port), perGateway: 1)

        usleep(1_000_000)
        harness.redis.stop()
        let stopped = Date()
        usleep(2_000_000)
        let answers = hammer.stop()

        let during = answers.filter { $0.sent > stopped }
        #expect(during.count > Self.policy.capacity * 2)
        #expect(during.allSatisfy { $0.status == 200 }, "statuses: \(Set(during.map(\.status)))")
        for gateway in 0..<3 { #expect(harness.backendErrors(gateway) >= 1, "gateway \(gateway)") }
    }

    @Test("local: with Redis stopped each gateway still limits, to its share of the limit")
    func localMode() throws {
        let policy = RateLimitPolicy(requestsPerMinute: 600, burst: 29)
        let share = localShare(of: policy, instances: 3)
        let harness = try SharedLimitHarness(count: 3, policy: policy, mode: .local, instances: 3)
        defer { harness.shutdown() }
        harness.redis.stop()
        let stopped = Date()

        let hammer = Hammer(ports: harness.gateways.map(\.port), perGateway: 1)
        usleep(3_000_000)
        let answers = hammer.stop()

        for gateway in 0..<3 {
            let mine = answers.filter { $0.gateway == gateway && $0.sent > stopped }
            let accepted = mine.filter { $0.status == 200 }.count
            let elapsed = (mine.last?.time ?? stopped).timeIntervalSince(stopped)
            #expect(accepted >= share.capacity, "gateway \(gateway) accepted \(accepted)")
            #expect(accepted <= Int(Self.bound(share, elapsed: elapsed)) + 1, "gateway \(gateway) accepted \(accepted)")
            #expect(mine.contains { $0.status == 429 }, "gateway \(gateway) never refused")
            #expect(mine.allSatisfy { $0.status == 200 || $0.status == 429 })
        }
    }
}
