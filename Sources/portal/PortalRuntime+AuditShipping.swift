import Audit
import Config
import Gateway
import Net
import Synchronization
import Telemetry

extension PortalRuntime {
    /// Starts the shipper of the gateway's audit file to the data layer (`AUDIT_STORE_SINK`, default on), with
    /// its metrics: `audit_shipped_total`, `audit_ship_errors_total{kind}`, `audit_ship_lag_records`,
    /// `audit_shipped_sequence`. The gateway's instance id (the records' `source`) is generated once into
    /// `$PORTAL_DATA_DIR/instance_id`, so a restarted gateway continues its own chain in the store.
    /// - Returns: nil when no gateway runs here, the audit trail is off, or the sink is turned off.
    static func startShipping(
        settings: PortalSettings, parts: ServeCommand.Parts, gatewayKey: String?, audit: AuditLog?,
        group: EventLoopGroup, registry: MetricsRegistry, auditMetrics metrics: AuditMetrics, logger: Logger
    ) throws -> AuditShipper? {
        guard parts != .dataLayerOnly, settings.audit.storeSink, let audit else { return nil }
        guard let gatewayKey else {
            throw StartError(
                description: "GATEWAY_L01_API_KEY: is required to ship audit records to the data layer "
                    + "(or set AUDIT_STORE_SINK=false)", badSetting: true)
        }
        let source = String(
            decoding: try SigningSecret.generatedFile("instance_id", in: settings.portalDataDirectory),
            as: UTF8.self)
        let address: UpstreamAddress
        do {
            let host = settings.dataLayerHost == "0.0.0.0" ? "127.0.0.1" : settings.dataLayerHost
            address = try UpstreamAddress(host: host, port: settings.dataLayerPort)
        } catch {
            throw StartError(description: "DATA_LAYER_HOST: cannot ship audit records there: \(error)")
        }
        let transport = DataLayerAuditTransport(
            address: address, serviceKey: gatewayKey, client: UpstreamClient(), loop: group.next())
        let shipped = registry.counter("audit_shipped_total", help: "Audit records the data layer acknowledged.")
        let errors = registry.counter(
            "audit_ship_errors_total", help: "Failed attempts to ship audit records, by kind.", labelNames: ["kind"])
        // Logged when shipping starts failing and when it recovers, not at every retry.
        let failing = Atomic<Bool>(false)
        let shipper = AuditShipper(
            path: settings.auditLogDestination, source: source, transport: transport,
            durableSequence: { audit.fileDurableSequence }, log: audit,
            onShipped: { [logger] count in
                shipped.increment(by: UInt64(count))
                metrics.storeRecords.increment(by: UInt64(count))
                if failing.exchange(false, ordering: .relaxed) { logger.notice("audit.ship_recovered") }
            },
            onError: { [logger] error in
                errors.labels([error.metricLabel]).increment()
                metrics.sinkErrors.labels(["store", error.metricLabel]).increment()
                if !failing.exchange(true, ordering: .relaxed) {
                    logger.error(
                        "audit.ship_failing", ["kind": .string(error.metricLabel), "detail": .string(error.detail)])
                }
            })
        registry.gauge("audit_ship_lag_records", help: "Durable audit records the data layer does not hold yet.") {
            Double(shipper.lagRecords)
        }
        registry.gauge("audit_shipped_sequence", help: "The last audit sequence the data layer acknowledged.") {
            Double(shipper.acknowledgedSequence)
        }
        shipper.start()
        return shipper
    }

    /// Gives the shipper a moment to send what the closed audit log made durable, then stops it; what is left
    /// stays in the file and goes at the next start.
    func stopShipping(_ shipper: AuditShipper) {
        if let audit, !shipper.waitUntilAcknowledged(audit.durableSequence, timeoutMilliseconds: 2000) {
            logger.notice("audit.ship_deferred", ["lag": .int(Int(shipper.lagRecords))])
        }
        shipper.stop()
    }
}
