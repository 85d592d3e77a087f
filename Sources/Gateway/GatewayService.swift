import Audit
import Auth
import Config
import HTTPCodec
import Limits
import Net
import PortalCore
import Telemetry

/// The L09 gateway: every public request passes this pipeline, and a request that fails a step
/// gets a JSON error while the steps after it never run.
///
/// request id → client address → ban check → per-IP rate limit → normalised target → (the token endpoints) →
/// route → authenticate → authorize → proxy → response headers → audit record and metrics.
///
/// Every step before the proxy sees only the head: no byte of the body is read until the request is
/// authorized, so a refused upload costs its head alone (the connection closes after the answer). The body and
/// the upstream's answer then stream through `ProxyRelay` without being collected; only the token endpoints
/// collect their (small, bounded) form bodies.
public final class GatewayService: HTTPStreamingHandler {
    let settings: GatewaySettings
    let routes: RouteTable
    /// Keys, credentials, policy and brute-force state for the authentication and authorization steps.
    let auth: GatewayAuthentication?
    let limiter: (any LoopRateLimiter)?
    let audit: AuditLog?
    let metrics: GatewayMetrics
    let upstreams: UpstreamClient
    /// Each route's upstream, resolved once at start-up, by route prefix.
    let upstreamAddresses: [String: UpstreamAddress]
    let clock: any PortalClock
    let ids = RequestIDGenerator()
    /// Nonces for consumer signatures: unique across gateways (a random prefix per process and a counter).
    let identityNonces = RequestIDGenerator()

    /// - Parameters:
    ///   - settings: the gateway's validated settings.
    ///   - routes: the route table; a path no route names is answered 404.
    ///   - auth: authentication and authorization; nil refuses every authenticated route with 401.
    ///   - limiter: the per-client-address limiter (in memory, or shared through Redis); nil turns it off.
    ///   - audit: where security decisions are recorded; nil records nothing.
    ///   - metrics: the gateway's counters and histograms.
    ///   - upstreams: the pooled upstream client.
    ///   - clock: the time source for durations.
    /// - Throws: `GatewayStartError` naming the route whose upstream host does not resolve.
    public init(
        settings: GatewaySettings, routes: RouteTable, auth: GatewayAuthentication?, limiter: (any LoopRateLimiter)?,
        audit: AuditLog?, metrics: GatewayMetrics, upstreams: UpstreamClient, clock: any PortalClock = SystemClock()
    ) throws(GatewayStartError) {
        var addresses: [String: UpstreamAddress] = [:]
        for route in routes.routes {
            do {
                addresses[route.prefix] = try UpstreamAddress(host: route.upstream.host, port: route.upstream.port)
            } catch {
                throw GatewayStartError(
                    description: "PORTAL_CONFIG: route \(route.prefix): upstream \(route.upstream) does not resolve")
            }
        }
        self.upstreamAddresses = addresses
        self.settings = settings
        self.routes = routes
        self.auth = auth
        self.limiter = limiter
        self.audit = audit
        self.metrics = metrics
        self.upstreams = upstreams
        self.clock = clock
    }

    /// A gateway that authenticates with a fixed verifier and the default access policy.
    public convenience init(
        settings: GatewaySettings, routes: RouteTable, verifier: JWTVerifier?, limiter: (any LoopRateLimiter)?,
        audit: AuditLog?, metrics: GatewayMetrics, upstreams: UpstreamClient, clock: any PortalClock = SystemClock()
    ) throws(GatewayStartError) {
        try self.init(
            settings: settings, routes: routes, auth: verifier.map { GatewayAuthentication(verifier: $0) },
            limiter: limiter, audit: audit, metrics: metrics, upstreams: upstreams, clock: clock)
    }

    /// The authentication the gateway was built with.
    public var authentication: GatewayAuthentication? { auth }

    public func handle(_ request: HTTPRequest, stream: any HTTPServerStream) {
        let connection = stream.connection
        let respond: @Sendable (HTTPResponse) -> Void = { stream.respond($0) }
        var exchange = Exchange(
            requestID: Self.keptRequestID(request) ?? ids.next(),
            client: ClientAddress.resolve(
                request.headers, peer: connection.remoteAddress, trusted: settings.trustedProxies),
            method: request.method,
            startNanoseconds: clock.monotonicNanoseconds())
        exchange.isTLS = connection.isTLS

        // A banned address is refused before anything else runs: one memory read (with Redis, of the mirror), no
        // audit, no limiter.
        if let remaining = banRemainingSeconds(exchange.client) {
            return finish(bannedResponse(remaining, exchange), exchange, respond)
        }

        // Per-IP limit first: it is the cheapest check and protects everything after it.
        limitThenContinue(request, stream: stream, exchange)
    }

    /// The steps after the per-IP limit; on the request's loop thread, called by `limitThenContinue`.
    func afterLimit(_ request: HTTPRequest, stream: any HTTPServerStream, _ exchange: Exchange) {
        let connection = stream.connection
        let loop = stream.loop
        let respond: @Sendable (HTTPResponse) -> Void = { stream.respond($0) }
        var exchange = exchange

        // One path for every decision: routing, scopes, audit and the upstream all see the normalised target.
        let target: RequestTarget
        do {
            target = try RequestTarget(parsing: request.target)
        } catch {
            return finish(GatewayError(target: error).response(requestID: exchange.requestID), exchange, respond)
        }
        var request = request
        request.target = target.normalised

        // The gateway's own token and revocation endpoints are answered here, never proxied.
        if target.path == Self.tokenPath || target.path == Self.revokePath, let auth, let tokens = auth.tokens,
            let credentials = auth.credentials
        {
            // The form body is small: collected (bounded) before the endpoint parses it.
            return BodyCollector.collect(
                stream, limit: Self.tokenBodyLimit
            ) { [self, request, path = target.path] body in
                guard let body else {
                    let response = GatewayError.payloadTooLarge.response(requestID: exchange.requestID)
                    return finish(response, exchange, respond)
                }
                var request = request
                request.body = body
                serveTokenEndpoint(
                    request, path: path, auth: auth, tokens: tokens, credentials: credentials, exchange, respond)
            }
        }

        // Route before authenticating: public routes need no credential.
        guard let route = routes.match(path: target.path) else {
            return finish(GatewayError.noRoute.response(requestID: exchange.requestID), exchange, respond)
        }
        exchange.route = route.prefix
        guard route.requiredScopes(for: request.method) != nil else {
            var response = GatewayError.methodNotAllowed.response(requestID: exchange.requestID)
            response.headers.add("Allow", route.allowedMethods.joined(separator: ", "))
            return finish(response, exchange, respond)
        }

        let forward: @Sendable (ConsumerIdentity?, Exchange) -> Void = { [self, request] identity, exchange in
            guard let address = upstreamAddresses[route.prefix] else {
                return finish(GatewayError.internalError.response(requestID: exchange.requestID), exchange, respond)
            }
            proxy(request, route: route, to: address, identity: identity, stream: stream, exchange)
        }
        guard !route.isPublic else { return forward(nil, exchange) }
        // Authenticate (on the loop, or briefly off it for a key-set refresh or a store lookup), then authorize.
        authenticate(request, connection: connection, loop: loop, exchange) { [self, request] outcome, exchange in
            switch outcome {
            case .failure(let error):
                finish(error.response(requestID: exchange.requestID), exchange, respond)
            case .success(let identity):
                if let error = authorize(identity, route: route, method: request.method, exchange) {
                    return finish(error.response(requestID: exchange.requestID), exchange, respond)
                }
                forward(identity, exchange)
            }
        }
    }

    /// The token after `Bearer ` (scheme case-insensitive, one or more spaces), or nil.
    static func bearerToken(_ header: String) -> Substring? {
        let utf8 = header.utf8
        guard utf8.count > 7 else { return nil }
        let scheme = header.prefix(6)
        guard HTTPHeaders.namesEqual(String(scheme), "bearer") else { return nil }
        let rest = header.dropFirst(6)
        guard rest.first == " " else { return nil }
        let token = rest.trimmingSpaces()
        return token.isEmpty ? nil : token
    }

    /// Whether `text` can be written in a header field: no control bytes (CR, LF, NUL, DEL and the rest).
    static func isHeaderSafe(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 0x20 && $0 != 0x7F }
    }

    /// The client's `X-Request-ID` when it is acceptable to keep, else nil.
    static func keptRequestID(_ request: HTTPRequest) -> String? {
        guard let id = request.headers.first("X-Request-ID"), RequestIDGenerator.isAcceptable(id) else { return nil }
        return id
    }
}

/// Why the gateway cannot start; one line naming the setting.
public struct GatewayStartError: Error, CustomStringConvertible {
    public let description: String
}
