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
        gatewayKey: String?, audit: inout AuditLog?
    ) throws -> GatewayService {
        let clock = SystemClock()
        let redis = try makeRedisClient(settings, logger: logger)
        let shared = makeSharedState(
            settings, redis: redis, group: group, registry: registry, logger: logger, clock: clock)
        let authentication = try makeAuthentication(
            settings: settings, shared: shared, registry: registry, logger: logger, clock: clock)
        let limiter = makeLimiter(settings, redis: redis, registry: registry, logger: logger, clock: clock)

        if settings.auditLogEnabled {
            audit = try makeAuditLog(settings, registry: registry, logger: logger, clock: clock)
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

    /// The audit trail at `AUDIT_LOG_DESTINATION`, chained and checkpointed as `AUDIT_*` says, with
    /// `audit_sink_errors_total{kind}`.
    static func makeAuditLog(
        _ settings: PortalSettings, registry: MetricsRegistry, logger: Logger, clock: any PortalClock
    ) throws -> AuditLog {
        let sinkErrors = registry.counter(
            "audit_sink_errors_total", help: "Audit writes that failed or records dropped.", labelNames: ["kind"])
        let chainKey = try AuditKeys.chainKey(settings)
        let signer = try AuditKeys.signer(settings)
        do {
            return try AuditLog(
                path: settings.auditLogDestination,
                level: settings.auditLogLevel == .warning ? .warning : .info, clock: clock, chainKey: chainKey,
                checkpointSigner: signer,
                checkpointIntervalMilliseconds: settings.audit.checkpointIntervalSeconds * 1000,
                onSinkError: { [logger] error in
                    sinkErrors.labels([error.metricLabel]).increment()
                    logger.error("audit.sink_error", ["kind": .string(error.metricLabel)])
                })
        } catch {
            throw StartError(
                description: "AUDIT_LOG_DESTINATION: cannot open \(settings.auditLogDestination): \(error)")
        }
    }
}
