import Audit
import Auth
import Config
import Crypto
import DataLayer
import Gateway
import HTTPCodec
import Limits
import Net
import PortalCore
import Store
import Telemetry

/// The running parts of one `portal` process, assembled from validated settings.
final class PortalRuntime {
    let group: EventLoopGroup
    let servers: [(name: String, server: HTTPServer)]
    let audit: AuditLog?
    /// Ships the audit file to the data layer's audit table; nil when `AUDIT_STORE_SINK=false` or no gateway runs.
    var shipper: AuditShipper?
    /// Verifies the audit file's chain in the background for `audit_last_verified_seq`; nil without an audit file.
    var verifier: AuditTailVerifier?
    let logger: Logger
    /// The HTTPS listener's certificate and key, reloaded on SIGHUP; nil without TLS.
    let tls: TLSContext?
    /// Purges events past their retention; nil without the data layer or without retention rules.
    var purger: RetentionPurger?
    /// Purges expired refresh tokens and revocations; nil without a gateway.
    var credentialPurger: CredentialPurger?

    private init(
        group: EventLoopGroup, servers: [(String, HTTPServer)], audit: AuditLog?, logger: Logger,
        tls: TLSContext? = nil
    ) {
        self.group = group
        self.servers = servers.map { (name: $0.0, server: $0.1) }
        self.audit = audit
        self.logger = logger
        self.tls = tls
    }

    /// A start-up failure; `badSetting` when a setting (or a file it names) is what must change: exit status 2.
    struct StartError: Error, CustomStringConvertible {
        let description: String
        var badSetting = false
    }

    /// Builds every part the command asked for and starts listening; any failure is one line naming its cause.
    static func start(settings: PortalSettings, parts: ServeCommand.Parts, logger: Logger) throws -> PortalRuntime {
        try DataDirectory.ensure(settings.portalDataDirectory)
        _ = try DataDirectoryLock.acquire(settings.portalDataDirectory)
        let registry = MetricsRegistry()
        let group = try EventLoopGroup(threads: settings.loopThreads)
        let listeners = ListenerFactory(settings: settings, group: group, registry: registry)

        // Without configured L01 keys, one process shares a fresh internal key between its two halves.
        var l01Keys = settings.l01APIKeys.map(\.text)
        var gatewayKey = settings.gatewayL01APIKey?.text ?? l01Keys.first
        if l01Keys.isEmpty && parts == .all {
            let internalKey = Digest.hex(SecureRandom.bytes(count: 32))
            l01Keys = [internalKey]
            gatewayKey = internalKey
        }

        var servers: [(String, HTTPServer)] = []
        var readiness: @Sendable () -> Bool = { true }
        var eventStore: (any EventPurging)?
        var settings = settings
        settings.auth.l01IdentityKey = try identityKey(settings, parts: parts)
        let erasureTrail = ErasureTrail()
        var generatedMasterKey: String?
        if parts != .gatewayOnly {
            let (server, ready, store, generatedKey) = try makeDataLayer(
                settings: settings, registry: registry, logger: logger, keys: l01Keys, listeners: listeners,
                erasureTrail: erasureTrail)
            eventStore = store
            // Started first: with DATA_LAYER_PORT=0 the gateway's default route needs the port it got.
            do {
                try server.start()
            } catch {
                group.shutdown()
                throw StartError(description: "data layer listener: \(error)")
            }
            servers.append(("data layer", server))
            readiness = ready
            generatedMasterKey = generatedKey
            settings.dataLayerPort = server.port
            if settings.usesDefaultRoutes {
                settings.routes = .defaultTable(dataLayerHost: settings.dataLayerHost, dataLayerPort: server.port)
            }
        }

        var audit: AuditLog?
        let auditMetrics = AuditMetrics(registry: registry)
        var pending: [(String, HTTPServer)] = []
        var tls: TLSContext?
        var credentials: CredentialCache?
        if parts != .dataLayerOnly {
            let gateway: GatewayService
            do {
                tls = try makeTLSContext(settings)
                gateway = try makeGateway(
                    settings: settings, registry: registry, logger: logger, group: group, gatewayKey: gatewayKey,
                    audit: &audit, auditMetrics: auditMetrics)
                erasureTrail.attach(audit)
                credentials = gateway.authentication?.credentials
            } catch {
                PortalRuntime(group: group, servers: servers, audit: audit, logger: logger).stop(grace: 0)
                throw error
            }
            if let tls {
                let https = listeners.make(
                    "gateway https", host: settings.tlsHost, port: settings.tlsPort, handler: gateway, tls: tls)
                // Started here: with TLS_PORT=0 the redirect needs the port it got.
                do {
                    try https.start()
                } catch {
                    PortalRuntime(group: group, servers: servers, audit: audit, logger: logger).stop(grace: 0)
                    throw StartError(description: "gateway https listener: \(error)")
                }
                servers.append(("gateway https", https))
                registry.gauge(
                    "tls_handshakes_failed", help: "TLS handshakes that failed or timed out since start (cumulative)."
                ) { Double(https.failedHandshakes) }
            }
            let plainHandler: any HTTPHandler =
                settings.tlsRedirectHTTP
                ? HTTPSRedirectService(httpsPort: servers.last { $0.0 == "gateway https" }?.1.port ?? settings.tlsPort)
                : gateway
            pending.append(
                (
                    "gateway",
                    listeners.make(
                        "gateway", host: settings.gatewayHost, port: settings.gatewayPort,
                        handler: plainHandler)
                ))
            let adminAPI = gateway.authentication?.credentials.map {
                AdminAPI(
                    gateway: gateway, credentials: $0, audit: audit,
                    rotationGraceSeconds: settings.auth.apiKeyRotationGraceSeconds)
            }
            let admin = AdminService(registry: registry, readiness: readiness, api: adminAPI)
            pending.append(
                ("admin", listeners.make("admin", host: settings.adminHost, port: settings.adminPort, handler: admin)))
        }

        for (name, server) in pending {
            do {
                try server.start()
            } catch {
                PortalRuntime(group: group, servers: servers, audit: audit, logger: logger).stop(grace: 0)
                throw StartError(description: "\(name) listener: \(error)")
            }
            servers.append((name, server))
        }
        // Without a gateway here, the data layer's purges get an audit trail of their own.
        if eventStore != nil, settings.retention.hasRules, audit == nil, settings.auditLogEnabled {
            do {
                audit = try makeAuditLog(settings, metrics: auditMetrics, logger: logger, clock: SystemClock())
            } catch {
                PortalRuntime(group: group, servers: servers, audit: audit, logger: logger).stop(grace: 0)
                throw error
            }
        }
        let runtime = PortalRuntime(group: group, servers: servers, audit: audit, logger: logger, tls: tls)
        if let eventStore, settings.retention.hasRules {
            let purger = RetentionPurger(
                policy: settings.retention, store: eventStore, audit: audit, logger: logger, registry: registry)
            purger.start()
            runtime.purger = purger
        }
        runtime.credentialPurger = startCredentialPurger(
            settings: settings, credentials: credentials, registry: registry, logger: logger)
        do {
            runtime.shipper = try startShipping(
                settings: settings, parts: parts, gatewayKey: gatewayKey, audit: audit, group: group,
                registry: registry, auditMetrics: auditMetrics, logger: logger)
            runtime.verifier = try startVerifier(
                settings: settings, audit: audit, metrics: auditMetrics, logger: logger)
        } catch {
            runtime.stop(grace: 0)
            throw error
        }
        // Announced only once all are up, so a failed start prints its one error line and nothing else.
        if let path = generatedMasterKey {
            logger.warning(
                "master_key.generated",
                [
                    "path": .string(path),
                    "hint": .string(
                        "PORTAL_MASTER_KEY is not set (development only): events are encrypted under this "
                            + "file; losing it loses every sealed event, so keep a copy apart from the data and its "
                            + "backups, and set PORTAL_MASTER_KEY_FILE in production"),
                ])
        }
        for (name, server) in servers {
            logger.info("listener.started", ["listener": .string(name), "port": .int(server.port)])
        }
        return runtime
    }

    /// The HTTPS context from `TLS_*` settings, checked as production demands; nil when TLS is off.
    static func makeTLSContext(_ settings: PortalSettings) throws -> TLSContext? {
        guard settings.tlsEnabled, let cert = settings.tlsCertPath, let key = settings.tlsKeyPath else { return nil }
        let clientAuth: TLSClientAuthentication =
            switch settings.tlsClientAuth {
            case .none: .none
            case .optional: .optional
            case .required: .required
            }
        let configuration = TLSConfiguration(
            certificateChainPath: cert, privateKeyPath: key, clientCAPath: settings.tlsClientCAPath,
            clientAuthentication: clientAuth)
        do {
            if settings.portalEnvironment == .production { try TLSProductionCheck.verify(configuration) }
            return try TLSContext(configuration: configuration)
        } catch {
            throw StartError(description: error.description, badSetting: error.reason != "openssl_failure")
        }
    }

    /// Reloads the HTTPS certificate and key (SIGHUP): new handshakes use them, open connections keep theirs.
    /// A failed reload keeps the old pair and is logged, never fatal.
    func reloadTLS() {
        guard let tls else { return }
        do {
            try tls.reload()
            logger.notice("tls.reloaded")
        } catch {
            logger.error("tls.reload_failed", ["error": .string(error.description)])
        }
    }

    /// The data layer's server over its store (SQLite or PostgreSQL), and its readiness check.
    static func makeDataLayer(
        settings: PortalSettings, registry: MetricsRegistry, logger: Logger, keys: [String],
        listeners: ListenerFactory, erasureTrail: ErasureTrail
    ) throws -> (HTTPServer, @Sendable () -> Bool, any EventPurging, generatedMasterKey: String?) {
        let storeErrors = registry.counter("store_errors_total", help: "Store operations that failed.").labels([])
        let (store, workers): (any EventStore & AuditRecordStore & EventPurging, Int)
        let generatedKey: String?
        do {
            let (encryption, generated) = try MasterKeySetup.encryption(settings)
            generatedKey = generated
            (store, workers) = try makeStore(settings, encryption: encryption)
            try MasterKeySetup.refuseForeignDataKeys(store, encryption: encryption, generatedPath: generated)
        } catch {
            listeners.group.shutdown()
            throw error
        }
        let router = DataLayerRouter(
            store: store, auditRecords: store, authenticator: ServiceKeyAuthenticator(keys: keys),
            onStoreError: { [logger] error in
                storeErrors.increment()
                logger.error("store.error", ["error": .string(error.metricLabel)])
            }, identity: settings.auth.l01IdentityKey.map { ConsumerSignatureVerifier(key: $0.bytes) },
            onErasure: { erasure, actor, requestID in
                erasureTrail.record(erasure, actor: actor, requestID: requestID)
            })
        let server = listeners.make(
            "data layer", host: settings.dataLayerHost, port: settings.dataLayerPort,
            handler: DataLayerService(router: router, workerCount: workers), behindGateway: true)
        return (server, { (try? store.ping()) != nil }, store, generatedKey)
    }

    /// Stops accepting, waits up to `grace` seconds for in-flight requests, then flushes the audit trail and
    /// ships what it can of it (the data layer, when in this process, stops last so that it can take it).
    func stop(grace: Double) {
        let deadline = Duration.milliseconds(Int64(grace * 1000))
        purger?.stop()
        credentialPurger?.stop()
        for (name, server) in servers.reversed() where name != "data layer" { server.shutdown(deadline: deadline) }
        if let audit, !audit.close() {
            logger.error("audit.close_incomplete")
        }
        if let shipper { stopShipping(shipper) }
        verifier?.stop()
        for (name, server) in servers where name == "data layer" { server.shutdown(deadline: deadline) }
        group.shutdown()
    }
}
