import PortalCore
import Synchronization

/// A circuit breaker for a shared backend (Redis), so that a dead backend does not cost each request a
/// timeout.
///
/// - closed: every call goes to the backend. `failureThreshold` failures in a row open the circuit.
/// - open: no call goes to the backend for `cooldownNanoseconds`; callers use their fallback at once.
/// - half-open: after the cool-down, exactly one caller is let through as a probe. Its success closes the
///   circuit; its failure opens it for another cool-down.
///
/// Lock-free: the request path reads one atomic while closed and writes only when something changes, so
/// loops do not contend. `onChange` hears each opening and each recovery exactly once (the half-open
/// probes in between are not announced), from whichever thread made the change.
public final class BackendCircuit: Sendable {
    /// The circuit's state; the raw value is what the state gauge exports.
    public enum State: Int, Sendable {
        case closed = 0
        case open = 1
        case halfOpen = 2
    }

    /// A change worth logging.
    public enum Change: Sendable, Equatable {
        /// The backend failed `failureThreshold` times in a row: fallback from now on.
        case opened
        /// A probe succeeded after the circuit had opened: the backend is used again.
        case recovered
    }

    private let rawState = Atomic<Int>(State.closed.rawValue)
    private let failures = Atomic<Int>(0)
    private let probeAt = Atomic<UInt64>(0)
    private let failureThreshold: Int
    private let cooldownNanoseconds: UInt64
    private let clock: any PortalClock
    private let onChange: @Sendable (Change) -> Void

    /// - Parameters:
    ///   - failureThreshold: failures in a row that open the circuit; default 3.
    ///   - cooldownNanoseconds: how long it stays open before a probe; default 5 s.
    ///   - clock: the monotonic clock the cool-down runs on.
    ///   - onChange: told of each opening and recovery, once each.
    public init(
        failureThreshold: Int = 3, cooldownNanoseconds: UInt64 = 5_000_000_000, clock: any PortalClock,
        onChange: @escaping @Sendable (Change) -> Void = { _ in }
    ) {
        precondition(failureThreshold >= 1, "the circuit opens after at least one failure")
        self.failureThreshold = failureThreshold
        self.cooldownNanoseconds = cooldownNanoseconds
        self.clock = clock
        self.onChange = onChange
    }

    /// The current state.
    public var state: State { State(rawValue: rawState.load(ordering: .relaxed)) ?? .closed }

    /// Whether this call may use the backend. Open after its cool-down, one caller wins the probe (and must
    /// report its outcome); everyone else gets false until the probe reports.
    public func allowsRequest() -> Bool {
        switch rawState.load(ordering: .acquiring) {
        case State.closed.rawValue:
            return true
        case State.open.rawValue:
            guard clock.monotonicNanoseconds() >= probeAt.load(ordering: .acquiring) else { return false }
            return rawState.compareExchange(
                expected: State.open.rawValue, desired: State.halfOpen.rawValue, ordering: .acquiringAndReleasing
            ).exchanged
        default:
            return false
        }
    }

    /// The backend answered.
    public func recordSuccess() {
        if failures.load(ordering: .relaxed) != 0 { failures.store(0, ordering: .relaxed) }
        guard rawState.load(ordering: .relaxed) == State.halfOpen.rawValue else { return }
        let recovered = rawState.compareExchange(
            expected: State.halfOpen.rawValue, desired: State.closed.rawValue, ordering: .acquiringAndReleasing
        ).exchanged
        if recovered { onChange(.recovered) }
    }

    /// The backend failed to answer (an error, a timeout, a refused connection).
    public func recordFailure() {
        switch rawState.load(ordering: .relaxed) {
        case State.halfOpen.rawValue:
            // The probe failed: another cool-down, no new announcement.
            probeAt.store(clock.monotonicNanoseconds() &+ cooldownNanoseconds, ordering: .releasing)
            _ = rawState.compareExchange(
                expected: State.halfOpen.rawValue, desired: State.open.rawValue, ordering: .acquiringAndReleasing)
        case State.closed.rawValue:
            let count = failures.wrappingAdd(1, ordering: .relaxed).newValue
            guard count >= failureThreshold else { return }
            probeAt.store(clock.monotonicNanoseconds() &+ cooldownNanoseconds, ordering: .releasing)
            let opened = rawState.compareExchange(
                expected: State.closed.rawValue, desired: State.open.rawValue, ordering: .acquiringAndReleasing
            ).exchanged
            if opened {
                failures.store(0, ordering: .relaxed)
                onChange(.opened)
            }
        default:
            // Calls that started before the circuit opened: already counted as an outage.
            return
        }
    }
}
