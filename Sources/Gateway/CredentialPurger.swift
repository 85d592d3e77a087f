import Dispatch
import PortalCore
import Store
import Synchronization
import Telemetry

/// Deletes refresh tokens and revocations that can no longer matter from the credential store, on a schedule, so
/// that neither table grows forever.
///
/// Each run calls `CredentialStore.purgeExpired(at:leewaySeconds:)` with the wall clock and the verifier's leeway:
/// a revocation goes only once its token's `exp` plus the leeway has passed, so a revoked token never becomes
/// usable again; a refresh token once its family has ended and none of its access tokens is still accepted. Every
/// gateway on a shared store may purge; the runs do not conflict. Runs go on one serial queue, never on an event
/// loop: the first `firstDelaySeconds` after `start`, then one every interval. A failed run is logged as a warning
/// and counted; the next one tries again.
///
/// Log: `credentials.purged` (info; `purged.refresh` and `purged.revocations` count the rows), and
/// `credentials.purge_failed` (warning).
/// Metrics: `credentials_purged_total{kind="refresh_token|revocation"}`, `credential_purge_errors_total`.
public final class CredentialPurger: Sendable {
    /// The first run's delay after `start` by default, in seconds.
    public static let defaultFirstDelaySeconds = 5.0

    private let store: any CredentialStore
    private let intervalSeconds: Double
    private let leewaySeconds: Int64
    private let clock: any PortalClock
    private let logger: Logger
    private let purgedRefreshTokens: Counter.Child?
    private let purgedRevocations: Counter.Child?
    private let errors: Counter.Child?
    private let stopped = Atomic<Bool>(false)
    private let queue = DispatchQueue(label: "portal.credentials.purge")

    /// - Parameters:
    ///   - store: the credential store to purge.
    ///   - intervalSeconds: the time between runs (`CREDENTIAL_PURGE_INTERVAL_SECONDS`, which allows 60 s to 7
    ///     days); more than 0.
    ///   - leewaySeconds: the JWT verifier's leeway on `exp` (`JWT_LEEWAY`), 0 to 3600.
    ///   - clock: the wall clock that decides what has expired.
    ///   - logger: each run's counts at info, failures as warnings.
    ///   - registry: registers the metrics when given.
    public init(
        store: any CredentialStore, intervalSeconds: Double, leewaySeconds: Int64,
        clock: any PortalClock = SystemClock(), logger: Logger, registry: MetricsRegistry? = nil
    ) {
        precondition(intervalSeconds > 0, "intervalSeconds must be positive")
        precondition((0...3600).contains(leewaySeconds), "leewaySeconds must be 0...3600")
        self.store = store
        self.intervalSeconds = intervalSeconds
        self.leewaySeconds = leewaySeconds
        self.clock = clock
        self.logger = logger
        let purged = registry?.counter(
            "credentials_purged_total", help: "Expired refresh tokens and revocations deleted from the store, by kind.",
            labelNames: ["kind"])
        purgedRefreshTokens = purged?.labels(["refresh_token"])
        purgedRevocations = purged?.labels(["revocation"])
        errors = registry?.counter(
            "credential_purge_errors_total", help: "Purges of expired credentials that failed (retried next interval)."
        ).labels([])
    }

    /// Purges once now, on the calling thread (it blocks on the store).
    /// - Returns: what was deleted; nil when the store failed (logged and counted).
    @discardableResult
    public func runOnce() -> PurgedCredentials? {
        do {
            let purged = try store.purgeExpired(at: clock.unixSeconds(), leewaySeconds: leewaySeconds)
            purgedRefreshTokens?.increment(by: UInt64(purged.refreshTokens))
            purgedRevocations?.increment(by: UInt64(purged.revocations))
            // Keys without "token" in them, which the logger would redact.
            logger.info(
                "credentials.purged",
                ["purged.refresh": .int(purged.refreshTokens), "purged.revocations": .int(purged.revocations)])
            return purged
        } catch {
            errors?.increment()
            logger.warning("credentials.purge_failed", ["error": .string("\(error)")])
            return nil
        }
    }

    /// Schedules the first run after `firstDelaySeconds` (default `defaultFirstDelaySeconds`, or the interval when
    /// shorter), then one every interval until `stop`.
    public func start(firstDelaySeconds: Double? = nil) {
        schedule(after: firstDelaySeconds ?? min(Self.defaultFirstDelaySeconds, intervalSeconds))
    }

    /// Stops scheduling runs; one under way finishes.
    public func stop() { stopped.store(true, ordering: .relaxed) }

    private func schedule(after seconds: Double) {
        queue.asyncAfter(deadline: .now() + .nanoseconds(Int(max(0, seconds) * 1_000_000_000))) { [self] in
            guard !stopped.load(ordering: .relaxed) else { return }
            runOnce()
            schedule(after: intervalSeconds)
        }
    }
}
