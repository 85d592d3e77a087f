import Audit
import Auth
import Config
import Gateway
import Limits
import Net
import PortalCore
import Telemetry

extension PortalRuntime {
    /// The gateway handler with its verifier, limiter, audit trail and metrics.
    static func makeGateway(
        settings: PortalSettings, registry: MetricsRegistry, logger: Logger, group: EventLoopGroup,
        gatewayKey: String?, audit: inout AuditLog?, auditMetrics metrics: AuditMetrics
    ) throws -> GatewayService {
        let clock = SystemClock()
        let redis = try makeRedisClient(settings, logger: logger)
        let shared = try makeSharedState(
            settings, redis: redis, group: group, registry: registry, logger: logger, clock: clock)
        let authentication = try makeAuthentication(
            settings: settings, shared: shared, registry: registry, logger: logger, clock: clock)
        let limiter = makeLimiter(settings, redis: redis, registry: registry, logger: logger, clock: clock)

        if settings.auditLogEnabled {
            audit = try makeAuditLog(settings, metrics: metrics, logger: logger, clock: clock)
        }

        var bindings: [ServiceKeyBinding] = []
        if let gatewayKey {
            bindings.append(
                ServiceKeyBinding(host: settings.dataLayerHost, port: settings.dataLayerPort, key: gatewayKey))
            if settings.dataLayerHost == "0.0.0.0" || settings.dataLayerHost == "localhost" {
                bindings.append(ServiceKeyBinding(host: "127.0.0.1", port: settings.dataLayerPort, key: gatewayKey))
            }
        }
        var gatewaySettings = GatewaySettings(
            trustedProxies: settings.trustedProxies,
            upstreamTimeoutNanoseconds: UInt64(settings.upstreamTimeoutSeconds * 1_000_000_000),
            serviceKeys: bindings,
            rateLimit: RateLimitPolicy(
                requestsPerMinute: settings.rateLimitRequestsPerMinute, burst: settings.rateLimitBurst))
        gatewaySettings.identityKeys = try identityBindings(settings)
        gatewaySettings.auditFailClosed = settings.audit.failMode == .closed
        do {
            return try GatewayService(
                settings: gatewaySettings, routes: settings.routes, auth: authentication, limiter: limiter,
                audit: audit,
                metrics: GatewayMetrics(registry: registry),
                upstreams: UpstreamClient(
                    configuration: UpstreamClient.Configuration(maxIdlePerUpstream: settings.upstreamMaxIdle)),
                clock: clock)
        } catch {
            throw StartError(description: error.description)
        }
    }

    /// The audit trail at `AUDIT_LOG_DESTINATION`, chained, checkpointed, rotated and kept as `AUDIT_*` says, with
    /// its metrics (`audit_records_total{sink="file"}`, `audit_sink_errors_total{sink="file",kind}`, health gauges);
    /// retired files past `AUDIT_RETENTION_DAYS` are deleted at once.
    static func makeAuditLog(
        _ settings: PortalSettings, metrics: AuditMetrics, logger: Logger, clock: any PortalClock
    ) throws -> AuditLog {
        let chainKey = try AuditKeys.chainKey(settings)
        let signer = try AuditKeys.signer(settings)
        let audit: AuditLog
        do {
            audit = try AuditLog(
                path: settings.auditLogDestination,
                level: settings.auditLogLevel == .warning ? .warning : .info, clock: clock, chainKey: chainKey,
                checkpointSigner: signer,
                checkpointIntervalMilliseconds: settings.audit.checkpointIntervalSeconds * 1000,
                rotation: rotation(settings.audit),
                onDurable: { count in metrics.fileRecords.increment(by: UInt64(count)) },
                onSinkError: { [logger] error in
                    metrics.sinkErrors.labels(["file", error.metricLabel]).increment()
                    logger.error("audit.sink_error", ["sink": "file", "kind": .string(error.metricLabel)])
                })
        } catch {
            throw StartError(
                description: "AUDIT_LOG_DESTINATION: cannot open \(settings.auditLogDestination): \(error)")
        }
        metrics.watch(audit)
        if settings.audit.retentionDays > 0 {
            AuditRetiredFiles.applyRetention(
                for: settings.auditLogDestination, days: settings.audit.retentionDays, nowSeconds: clock.unixSeconds())
        }
        return audit
    }

    /// Rotation and retention of the audit file from `AUDIT_FILE_MAX_BYTES`, `AUDIT_FILE_MAX_AGE_SECONDS` and
    /// `AUDIT_RETENTION_DAYS` (0 turns each off). With the store sink on, a file is retired only once the store
    /// holds all of it, so the shipper never reads a retired file.
    static func rotation(_ audit: AuditSettings) -> AuditRotation {
        AuditRotation(
            maxBytes: audit.fileMaxBytes > 0 ? UInt64(audit.fileMaxBytes) : nil,
            maxAgeSeconds: audit.fileMaxAgeSeconds > 0 ? Int64(audit.fileMaxAgeSeconds) : nil,
            retentionDays: audit.retentionDays > 0 ? audit.retentionDays : nil, waitForStore: audit.storeSink)
    }
}
