import Audit
import Config
import Dispatch
import PortalCore
import Store
import Synchronization
import Telemetry

/// Deletes events older than their type's maximum age (`RetentionPolicy`), on a schedule, and audits each run.
///
/// Each run takes the rules in order (named types, then `"*"` for every type not named) and, per rule, deletes
/// the events created before `now - maxAge`. Each rule's outcome is one audit record, `data.purged`, whose
/// reason holds only the rule's type, the cutoff (Unix seconds) and the count: never an event's content,
/// aggregate or id. A failed rule is audited with outcome `failure`, logged and counted; the next run tries
/// again. Runs go on one serial queue, never on an event loop: the first `firstDelaySeconds` after `start`,
/// then every `policy.purgeIntervalSeconds`.
///
/// Metrics: `retention_purged_events_total`, `retention_purge_errors_total`.
public final class RetentionPurger: Sendable {
    /// One rule's outcome in one run.
    public struct Outcome: Sendable, Equatable {
        /// The rule's event type, or `*`.
        public let eventType: String
        /// Events created before this instant (Unix microseconds) were taken.
        public let cutoffMicroseconds: Int64
        /// Events deleted; nil when the purge failed.
        public let deleted: Int?
    }

    private let policy: RetentionPolicy
    private let store: any EventPurging
    private let audit: AuditLog?
    private let clock: any PortalClock
    private let logger: Logger
    private let purged: Counter.Child?
    private let errors: Counter.Child?
    private let stopped = Atomic<Bool>(false)
    private let queue = DispatchQueue(label: "portal.retention.purge")

    /// - Parameters:
    ///   - policy: the rules and the interval.
    ///   - store: the event store to purge.
    ///   - audit: where each rule's outcome is recorded; nil records nothing.
    ///   - clock: the wall clock cutoffs are computed from.
    ///   - logger: failures (with the type and the store's short error), and each run's totals at info.
    ///   - registry: registers the metrics when given.
    public init(
        policy: RetentionPolicy, store: any EventPurging, audit: AuditLog?, clock: any PortalClock = SystemClock(),
        logger: Logger, registry: MetricsRegistry? = nil
    ) {
        self.policy = policy
        self.store = store
        self.audit = audit
        self.clock = clock
        self.logger = logger
        purged = registry?.counter("retention_purged_events_total", help: "Events deleted by retention purges.")
            .labels([])
        errors = registry?.counter(
            "retention_purge_errors_total", help: "Retention rules whose purge failed (retried next run)."
        ).labels([])
    }

    /// Runs every rule once now, on the calling thread (it blocks on the store).
    /// - Returns: each rule's outcome, in rule order.
    @discardableResult
    public func runOnce() -> [Outcome] {
        let now = clock.unixNanoseconds() / 1000
        let named = policy.maxAgeSecondsByType.keys.sorted()
        var outcomes: [Outcome] = []
        for rule in policy.rules {
            let cutoff = now - rule.maxAgeSeconds * 1_000_000
            let selection: EventTypeSelection = rule.eventType.map { .only($0) } ?? .allExcept(named)
            let type = rule.eventType ?? "*"
            var deleted: Int?
            do {
                deleted = try store.purgeEvents(selection, createdBefore: cutoff)
                purged?.increment(by: UInt64(deleted ?? 0))
            } catch {
                errors?.increment()
                logger.error("retention.purge_failed", ["event_type": .string(type), "error": .string("\(error)")])
            }
            let outcome = Outcome(eventType: type, cutoffMicroseconds: cutoff, deleted: deleted)
            record(outcome)
            outcomes.append(outcome)
        }
        let total = outcomes.reduce(0) { $0 + ($1.deleted ?? 0) }
        logger.info("retention.purged", ["events": .int(total), "rules": .int(outcomes.count)])
        return outcomes
    }

    /// Schedules the first run after `firstDelaySeconds` (default: 10 s, or the interval when shorter), then
    /// one every interval until `stop`.
    public func start(firstDelaySeconds: Double? = nil) {
        schedule(after: firstDelaySeconds ?? min(10, policy.purgeIntervalSeconds))
    }

    /// Stops scheduling runs; one under way finishes.
    public func stop() { stopped.store(true, ordering: .relaxed) }

    private func schedule(after seconds: Double) {
        queue.asyncAfter(deadline: .now() + .nanoseconds(Int(max(0, seconds) * 1_000_000_000))) { [self] in
            guard !stopped.load(ordering: .relaxed) else { return }
            runOnce()
            schedule(after: policy.purgeIntervalSeconds)
        }
    }

    /// The audit record of one rule's outcome: type, cutoff and count only.
    private func record(_ outcome: Outcome) {
        guard let audit else { return }
        var reason = "event_type:\(outcome.eventType);cutoff:\(outcome.cutoffMicroseconds / 1_000_000)"
        reason += outcome.deleted.map { ";deleted:\($0)" } ?? ";error"
        _ = audit.record(
            AuditRecord(
                type: .dataPurged, outcome: outcome.deleted == nil ? .failure : .success, subject: "retention",
                reason: reason))
    }
}
