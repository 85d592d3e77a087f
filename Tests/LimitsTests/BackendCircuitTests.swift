import Dispatch
import Limits
import PortalCore
import Synchronization
import Testing

/// The circuit on a manual clock: when it opens, how long it stays open, who probes, what is announced.
@Suite("Backend circuit")
struct BackendCircuitTests {
    final class Changes: Sendable {
        let seen = Mutex<[BackendCircuit.Change]>([])
        var all: [BackendCircuit.Change] { seen.withLock { $0 } }
    }

    func circuit(_ clock: ManualClock, _ changes: Changes) -> BackendCircuit {
        BackendCircuit(failureThreshold: 3, cooldownNanoseconds: 5_000_000_000, clock: clock) { change in
            changes.seen.withLock { $0.append(change) }
        }
    }

    @Test("three failures in a row open it; a success in between resets the count")
    func opensAfterThreshold() {
        let clock = ManualClock()
        let changes = Changes()
        let circuit = circuit(clock, changes)

        circuit.recordFailure()
        circuit.recordFailure()
        circuit.recordSuccess()
        circuit.recordFailure()
        circuit.recordFailure()
        #expect(circuit.state == .closed && circuit.allowsRequest())

        circuit.recordFailure()
        #expect(circuit.state == .open)
        #expect(!circuit.allowsRequest())
        #expect(changes.all == [.opened])
    }

    @Test("open, it refuses until the cool-down ends, then lets exactly one probe through")
    func oneProbeAfterCooldown() {
        let clock = ManualClock()
        let circuit = circuit(clock, Changes())
        for _ in 0..<3 { circuit.recordFailure() }

        clock.advance(nanoseconds: 4_999_999_999)
        #expect(!circuit.allowsRequest())
        clock.advance(nanoseconds: 1)
        #expect(circuit.allowsRequest())
        #expect(circuit.state == .halfOpen)
        #expect(!circuit.allowsRequest())
    }

    @Test("a failed probe reopens it for a whole cool-down without a second announcement; a good one recovers once")
    func probeOutcomes() {
        let clock = ManualClock()
        let changes = Changes()
        let circuit = circuit(clock, changes)
        for _ in 0..<3 { circuit.recordFailure() }

        clock.advance(seconds: 5)
        #expect(circuit.allowsRequest())
        circuit.recordFailure()
        #expect(circuit.state == .open)
        clock.advance(seconds: 4)
        #expect(!circuit.allowsRequest())
        clock.advance(seconds: 1)
        #expect(circuit.allowsRequest())
        circuit.recordSuccess()
        circuit.recordSuccess()

        #expect(circuit.state == .closed && circuit.allowsRequest())
        #expect(changes.all == [.opened, .recovered])
    }

    @Test("late failures of calls made before it opened neither extend the cool-down nor announce again")
    func lateFailures() {
        let clock = ManualClock()
        let changes = Changes()
        let circuit = circuit(clock, changes)
        for _ in 0..<3 { circuit.recordFailure() }
        clock.advance(seconds: 3)
        for _ in 0..<10 { circuit.recordFailure() }
        clock.advance(seconds: 2)

        #expect(circuit.allowsRequest())
        #expect(changes.all == [.opened])
    }

    @Test("when many threads race after the cool-down, exactly one of them probes")
    func racingThreads() {
        let clock = ManualClock()
        let circuit = circuit(clock, Changes())
        for _ in 0..<3 { circuit.recordFailure() }
        clock.advance(seconds: 5)
        let winners = Atomic<Int>(0)

        DispatchQueue.concurrentPerform(iterations: 64) { _ in
            if circuit.allowsRequest() { winners.add(1, ordering: .relaxed) }
        }

        #expect(winners.load(ordering: .relaxed) == 1)
    }
}

@Suite("Local share of a shared limit")
struct LocalShareTests {
    @Test("rate and capacity are divided by the instances, rounded down, never below one")
    func shares() {
        let policy = RateLimitPolicy(requestsPerMinute: 100, burst: 20)
        let third = localShare(of: policy, instances: 3)
        #expect(third.requestsPerMinute == 33 && third.capacity == 7)
        #expect(localShare(of: policy, instances: 1) == policy)
        let tiny = localShare(of: RateLimitPolicy(requestsPerMinute: 2, burst: 0), instances: 5)
        #expect(tiny.requestsPerMinute == 1 && tiny.capacity == 1)
    }

    @Test("the shares of N gateways never add up to more than the shared limit")
    func neverMore() {
        for rate in [1, 7, 60, 100, 1_000] {
            for burst in [0, 1, 5, 20, 99] {
                for count in 1...7 {
                    let policy = RateLimitPolicy(requestsPerMinute: rate, burst: burst)
                    let share = localShare(of: policy, instances: count)
                    #expect(share.capacity * count <= max(policy.capacity, count))
                    #expect(share.requestsPerMinute * count <= max(rate, count))
                }
            }
        }
    }
}
