import Audit
import Config
import Telemetry

extension PortalRuntime {
    /// Starts the background verifier of the gateway's audit file, exposed as `audit_last_verified_seq`; a broken
    /// record is counted in `audit_verify_failures_total` and logged once, with its sequence and never its content.
    /// - Returns: nil when no audit file is written here.
    static func startVerifier(
        settings: PortalSettings, audit: AuditLog?, metrics: AuditMetrics, logger: Logger
    ) throws -> AuditTailVerifier? {
        guard let audit else { return nil }
        let verifier = AuditTailVerifier(
            path: settings.auditLogDestination, chainKey: try AuditKeys.chainKey(settings),
            durableSequence: { audit.fileDurableSequence },
            intervalMilliseconds: settings.audit.verifyIntervalSeconds * 1000,
            onFailure: { [logger] reason in
                metrics.verifyFailures.increment()
                logger.error("audit.verify_failed", ["reason": .string(reason)])
            })
        metrics.watch(verifier)
        verifier.start()
        return verifier
    }
}
