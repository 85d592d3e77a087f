import Audit
import Telemetry

/// The audit trail's metrics, registered once and shared by the file writer, the shipper and the verifier.
///
/// - `audit_records_total{sink}`: records made durable, by the file (`file`) and by the store (`store`).
/// - `audit_sink_errors_total{sink,kind}`: failed writes, syncs and dropped records of the file sink; failed
///   shipments of the store sink, by kind.
/// - `audit_last_verified_seq`: the last sequence the background verifier (`AuditTailVerifier`) checked in
///   the file: HMAC, sequence and link of every record up to it. It stops at a broken record.
/// - `audit_file_writable`, `audit_store_writable`, `audit_accepts_durably`: 1 or 0, what
///   `AUDIT_FAIL_MODE=closed` looks at.
final class AuditMetrics: Sendable {
    let fileRecords: Counter.Child
    let storeRecords: Counter.Child
    let sinkErrors: Counter
    let verifyFailures: Counter.Child
    private let registry: MetricsRegistry

    init(registry: MetricsRegistry) {
        self.registry = registry
        let records = registry.counter(
            "audit_records_total", help: "Audit records made durable, by sink.", labelNames: ["sink"])
        fileRecords = records.labels(["file"])
        storeRecords = records.labels(["store"])
        sinkErrors = registry.counter(
            "audit_sink_errors_total", help: "Failed audit writes, shipments and dropped records, by sink.",
            labelNames: ["sink", "kind"])
        verifyFailures = registry.counter(
            "audit_verify_failures_total", help: "Broken audit records found by the background verifier."
        ).labels([])
    }

    /// Exposes the log's sink health as gauges.
    func watch(_ audit: AuditLog) {
        registry.gauge("audit_file_writable", help: "1 while the audit file can be written and synced.") {
            audit.isFileWritable ? 1 : 0
        }
        registry.gauge("audit_store_writable", help: "1 while the data layer takes shipped audit records.") {
            audit.isStoreWritable ? 1 : 0
        }
        registry.gauge("audit_accepts_durably", help: "1 while some audit sink can write durably.") {
            audit.acceptsDurably ? 1 : 0
        }
    }

    /// Exposes the verifier's progress as `audit_last_verified_seq`.
    func watch(_ verifier: AuditTailVerifier) {
        registry.gauge(
            "audit_last_verified_seq", help: "The last audit sequence the background verifier checked in the file."
        ) { Double(verifier.lastVerifiedSequence) }
    }
}
