import Config
import Telemetry

#if canImport(Glibc)
    import Glibc
#endif

/// `portal serve` (and `gateway`, `data-layer`): starts the listeners, waits for SIGTERM or SIGINT,
/// then stops accepting, lets in-flight requests finish up to `SHUTDOWN_GRACE_SECONDS`, and flushes the audit trail.
enum ServeCommand {
    enum Parts {
        case all
        case gatewayOnly
        case dataLayerOnly
    }

    static let usage = """
        Usage: portal serve | portal gateway | portal data-layer

        serve       the gateway (GATEWAY_HOST:GATEWAY_PORT, default 0.0.0.0:8009), the data layer
                    (DATA_LAYER_HOST:DATA_LAYER_PORT, default 127.0.0.1:8001) and the admin listener
                    (ADMIN_HOST:ADMIN_PORT, default 127.0.0.1:9009) in one process, on embedded defaults.
        gateway     the gateway and the admin listener; the data layer runs elsewhere.
        data-layer  the data layer alone.

        Settings come from the environment and ./.env; every one is listed in README.md.
        A bad setting stops start-up with one line that names it.
        """

    static func run(_ raw: [String], parts: Parts) throws -> Int32 {
        let args = try Arguments(raw, valued: [])
        if args.wantsHelp {
            PortalCLI.printOut(usage)
            return 0
        }
        guard args.positionals.isEmpty else { throw UsageError("unexpected argument '\(args.positionals[0])'") }

        let settings = try PortalSettings.load(from: Environment.load())
        let logger = Logger(level: logLevel(settings.logLevel), format: settings.logFormat == .json ? .json : .text)

        // Signals are blocked before any thread starts, so only this thread's sigwait sees them.
        var waitSet = sigset_t()
        sigemptyset(&waitSet)
        sigaddset(&waitSet, SIGINT)
        sigaddset(&waitSet, SIGTERM)
        sigaddset(&waitSet, SIGHUP)
        pthread_sigmask(SIG_BLOCK, &waitSet, nil)
        signal(SIGPIPE, SIG_IGN)

        let runtime = try PortalRuntime.start(settings: settings, parts: parts, logger: logger)
        var received: Int32 = 0
        // SIGHUP reloads the TLS certificate and key; SIGTERM and SIGINT stop.
        while sigwait(&waitSet, &received) == 0 && received == SIGHUP {
            runtime.reloadTLS()
        }
        logger.info("portal.stopping", ["signal": .int(Int(received))])
        runtime.stop(grace: settings.shutdownGraceSeconds)
        logger.info("portal.stopped")
        return 0
    }

    static func logLevel(_ level: LogLevel) -> Logger.Level {
        switch level {
        case .trace: .trace
        case .debug: .debug
        case .info: .info
        case .notice: .notice
        case .warning: .warning
        case .error, .critical: .error
        }
    }
}
