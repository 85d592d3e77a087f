import Auth
import Dispatch
import Net
import PortalCore
import Synchronization
import Telemetry

/// Keeps the keys of `JWKS_URL` in a `JWTKeyRing`: fetched on a background queue with a timeout, again every
/// `refreshNanoseconds`, and at once when a token names an unknown `kid` — but never twice within
/// `minimumIntervalNanoseconds`, so forged `kid`s cannot make the gateway hammer the key server.
///
/// A failed fetch, or a document without one usable key, keeps the last good set (until a fetch succeeds, a
/// retry comes after the minimum interval instead of the full one). Requests never wait on the network except
/// those with an unknown `kid` that started or joined a fetch; they wait at most for its timeout.
public final class JWKSRefresher: Sendable {
    /// Where and how often.
    public struct Configuration: Sendable {
        public var url: String
        public var caPath: String?
        public var refreshNanoseconds: UInt64
        public var minimumIntervalNanoseconds: UInt64
        public var timeoutSeconds: Double

        public init(
            url: String, caPath: String? = nil, refreshSeconds: Int = 300, minimumIntervalSeconds: Int = 30,
            timeoutSeconds: Double = 5
        ) {
            self.url = url
            self.caPath = caPath
            refreshNanoseconds = UInt64(refreshSeconds) * 1_000_000_000
            minimumIntervalNanoseconds = UInt64(minimumIntervalSeconds) * 1_000_000_000
            self.timeoutSeconds = timeoutSeconds
        }
    }

    private struct State {
        var lastAttempt: UInt64?
        var inFlight = false
        var waiters: [@Sendable (Bool) -> Void] = []
        var haveKeys = false
        var stopped = false
    }

    let configuration: Configuration
    private let ring: JWTKeyRing
    private let clock: any PortalClock
    private let logger: Logger
    private let outcomes: Counter?
    private let queue = DispatchQueue(label: "portal.jwks")
    private let state = Mutex(State())

    /// - Parameters:
    ///   - configuration: URL, CA bundle and intervals.
    ///   - ring: receives every good key set.
    ///   - clock: monotonic time for the intervals.
    ///   - logger: fetch failures are logged (the URL's path and query never are).
    ///   - registry: registers `jwks_refresh_total{result}` when given.
    public init(
        configuration: Configuration, ring: JWTKeyRing, clock: any PortalClock = SystemClock(), logger: Logger,
        registry: MetricsRegistry? = nil
    ) {
        self.configuration = configuration
        self.ring = ring
        self.clock = clock
        self.logger = logger
        outcomes = registry?.counter(
            "jwks_refresh_total", help: "JWKS_URL fetches by result (ok, error).", labelNames: ["result"])
    }

    /// Fetches once on the calling thread (start-up, never an event loop), then keeps refreshing in the
    /// background. - Returns: whether the first fetch gave usable keys.
    @discardableResult
    public func start() -> Bool {
        state.withLock {
            $0.lastAttempt = clock.monotonicNanoseconds()
            $0.inFlight = true
        }
        let ok = fetchOnce()
        scheduleNext()
        return ok
    }

    /// Stops the periodic refresh; a fetch under way finishes.
    public func stop() {
        state.withLock { $0.stopped = true }
    }

    /// Asks for a fetch because a token named an unknown `kid`. `completion` gets true once a fetch finished
    /// with good keys (so verifying again may now succeed), false at once when the last fetch was too recent.
    /// Callable from any thread; `completion` runs on the refresher's queue or the caller's thread.
    public func refreshForUnknownKey(_ completion: @escaping @Sendable (Bool) -> Void) {
        let now = clock.monotonicNanoseconds()
        let startFetch = state.withLock { state -> Bool? in
            if state.inFlight {
                state.waiters.append(completion)
                return false
            }
            if let last = state.lastAttempt, now &- last < configuration.minimumIntervalNanoseconds { return nil }
            state.lastAttempt = now
            state.inFlight = true
            state.waiters.append(completion)
            return true
        }
        guard let startFetch else { return completion(false) }
        if startFetch { queue.async { _ = self.fetchOnce() } }
    }

    /// One fetch: replaces the ring's fetched keys when the document holds usable ones, then answers waiters.
    private func fetchOnce() -> Bool {
        var ok = false
        do {
            let response = try BlockingHTTPFetch.get(
                configuration.url, timeoutSeconds: configuration.timeoutSeconds, caPath: configuration.caPath)
            guard response.status == 200 else {
                throw BlockingHTTPFetch.Failure("answered status \(response.status)")
            }
            let set = try JWKSet(json: response.body)
            guard !set.keys.isEmpty else { throw BlockingHTTPFetch.Failure("the document holds no usable key") }
            ring.replaceFetchedKeys(set.keys)
            ok = true
            logger.info("jwks.refreshed", ["jwks.keys": .int(set.keys.count), "jwks.skipped": .int(set.skipped.count)])
        } catch {
            logger.error("jwks.refresh_failed", ["error": .string("\(error)")])
        }
        outcomes?.labels(ok ? "ok" : "error").increment()
        let waiters = state.withLock { state -> [@Sendable (Bool) -> Void] in
            state.inFlight = false
            if ok { state.haveKeys = true }
            let taken = state.waiters
            state.waiters = []
            return taken
        }
        for waiter in waiters { waiter(ok) }
        return ok
    }

    /// The next periodic fetch: the full interval once keys are in hand, the minimum interval until then.
    private func scheduleNext() {
        let (stopped, haveKeys) = state.withLock { ($0.stopped, $0.haveKeys) }
        guard !stopped else { return }
        let delay = haveKeys ? configuration.refreshNanoseconds : configuration.minimumIntervalNanoseconds
        queue.asyncAfter(deadline: .now() + .nanoseconds(Int(min(delay, UInt64(Int.max))))) { [self] in
            let go = state.withLock { state -> Bool in
                guard !state.stopped, !state.inFlight else { return false }
                state.inFlight = true
                state.lastAttempt = clock.monotonicNanoseconds()
                return true
            }
            if go { _ = fetchOnce() }
            scheduleNext()
        }
    }
}
