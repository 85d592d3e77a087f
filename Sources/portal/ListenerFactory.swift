import Config
import Gateway
import HTTPCodec
import Net
import Telemetry

/// Builds every listener of the process with the same limits, error headers and connection caps,
/// and counts refused connections per listener in `connections_refused_total{listener,reason}` and connections cut
/// by a timeout in `connections_timed_out_total{listener,phase}`.
struct ListenerFactory {
    let group: EventLoopGroup
    let limits: HTTPParserLimits
    let connectionLimits: HTTPServerConnectionLimits
    let timeouts: HTTPServerTimeouts
    let refused: Counter
    let timedOut: Counter

    init(settings: PortalSettings, group: EventLoopGroup, registry: MetricsRegistry) {
        self.group = group
        limits = HTTPParserLimits(maxBodyBytes: settings.maxBodySizeBytes)
        connectionLimits = HTTPServerConnectionLimits(
            maxConnections: settings.maxConnections, maxConnectionsPerAddress: settings.maxConnectionsPerIP)
        timeouts = HTTPServerTimeouts(writeNanoseconds: UInt64(settings.writeTimeoutSeconds * 1_000_000_000))
        refused = registry.counter(
            "connections_refused_total", help: "Connections closed at accept for a connection cap.",
            labelNames: ["listener", "reason"])
        timedOut = registry.counter(
            "connections_timed_out_total", help: "Connections cut by a head, body, write or handshake timeout.",
            labelNames: ["listener", "phase"])
    }

    /// A server for `handler` on `host:port`, not yet started; HTTPS when `tls` is given. `behindGateway` (the data
    /// layer) raises the field limits by what the gateway adds to a request it forwards, so that a request within
    /// the gateway's limits is never refused 431 one hop later.
    func make(
        _ name: String, host: String, port: Int, handler: any HTTPHandler, tls: TLSContext? = nil,
        behindGateway: Bool = false
    ) -> HTTPServer {
        let refused = self.refused
        let timedOut = self.timedOut
        var limits = self.limits
        if behindGateway {
            limits.maxHeaderFields += GatewayService.forwardedFieldAllowance
            limits.maxHeaderBytes += GatewayService.forwardedFieldBytesAllowance
        }
        return HTTPServer(
            host: host, port: port, group: group, handler: handler, limits: limits, timeouts: timeouts,
            errorHeaders: GatewayService.serverErrorHeaders, connectionLimits: connectionLimits, tls: tls,
            onConnectionRefused: { reason in refused.labels([name, reason.rawValue]).increment() },
            onConnectionTimedOut: { phase in timedOut.labels([name, phase.rawValue]).increment() })
    }
}
