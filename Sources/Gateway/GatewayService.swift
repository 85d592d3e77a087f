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
/// request id → client address → per-IP rate limit → normalised target → route → authenticate → authorize →
/// proxy → response headers → audit record and metrics.
public final class GatewayService: HTTPHandler {
    let settings: GatewaySettings
    let routes: RouteTable
    let verifier: JWTVerifier?
    let limiter: (any LoopRateLimiter)?
    let audit: AuditLog?
    let metrics: GatewayMetrics
    let upstreams: UpstreamClient
    /// Each route's upstream, resolved once at start-up, by route prefix.
    let upstreamAddresses: [String: UpstreamAddress]
    let clock: any PortalClock
    let ids = RequestIDGenerator()

    /// - Parameters:
    ///   - settings: the gateway's validated settings.
    ///   - routes: the route table; a path no route names is answered 404.
    ///   - verifier: verifies bearer tokens; nil refuses every authenticated route with 401.
    ///   - limiter: the per-client-address limiter (in memory, or shared through Redis); nil turns it off.
    ///   - audit: where security decisions are recorded; nil records nothing.
    ///   - metrics: the gateway's counters and histograms.
    ///   - upstreams: the pooled upstream client.
    ///   - clock: the time source for durations.
    /// - Throws: `GatewayStartError` naming the route whose upstream host does not resolve.
    public init(
        settings: GatewaySettings, routes: RouteTable, verifier: JWTVerifier?, limiter: (any LoopRateLimiter)?,
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
        self.verifier = verifier
        self.limiter = limiter
        self.audit = audit
        self.metrics = metrics
        self.upstreams = upstreams
        self.clock = clock
    }

    public func handle(
        _ request: HTTPRequest, connection: ConnectionInfo, loop: EventLoop,
        respond: @escaping @Sendable (HTTPResponse) -> Void
    ) {
        var exchange = Exchange(
            requestID: Self.keptRequestID(request) ?? ids.next(),
            client: ClientAddress.resolve(
                request.headers, peer: connection.remoteAddress, trusted: settings.trustedProxies),
            method: request.method,
            startNanoseconds: clock.monotonicNanoseconds())
        exchange.isTLS = connection.isTLS

        // Per-IP limit first: it is the cheapest check and protects everything after it.
        limitThenContinue(request, connection: connection, loop: loop, exchange, respond)
    }

    /// The steps after the per-IP limit; on the request's loop thread, called by `limitThenContinue`.
    func afterLimit(
        _ request: HTTPRequest, connection: ConnectionInfo, loop: EventLoop, _ exchange: Exchange,
        _ respond: @escaping @Sendable (HTTPResponse) -> Void
    ) {
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

        // Route before authenticating: public routes need no credential.
        guard let route = routes.match(path: target.path) else {
            return finish(GatewayError.noRoute.response(requestID: exchange.requestID), exchange, respond)
        }
        exchange.route = route.prefix
        guard let required = route.requiredScopes(for: request.method) else {
            var response = GatewayError.methodNotAllowed.response(requestID: exchange.requestID)
            response.headers.add("Allow", route.allowedMethods.joined(separator: ", "))
            return finish(response, exchange, respond)
        }

        var identity: VerifiedToken?
        if !route.isPublic {
            switch authenticate(request, &exchange) {
            case .failure(let error):
                return finish(error.response(requestID: exchange.requestID), exchange, respond)
            case .success(let token):
                identity = token
            }
            if let missing = required.first(where: { !(identity?.scopes.contains($0) ?? false) }) {
                metrics.unauthorizedAccess.increment()
                record(.authzDenied, outcome: .denied, exchange, reason: "missing_scope:\(missing)")
                let response = GatewayError.insufficientScope.response(requestID: exchange.requestID)
                return finish(response, exchange, respond)
            }
            record(.authSuccess, outcome: .success, exchange, reason: nil)
        }

        guard let address = upstreamAddresses[route.prefix] else {
            return finish(GatewayError.internalError.response(requestID: exchange.requestID), exchange, respond)
        }
        proxy(
            request, route: route, to: address, identity: identity, connection: connection, loop: loop,
            exchange, respond)
    }

    /// Checks the `Authorization: Bearer` credential; counts and audits a failure.
    private func authenticate(
        _ request: HTTPRequest, _ exchange: inout Exchange
    ) -> Result<VerifiedToken, GatewayError> {
        let credentials = request.headers.all("Authorization")
        // Two credentials are ambiguous: which one an upstream or a log would believe is anyone's guess.
        if credentials.count > 1 {
            metrics.authFailures.increment()
            record(.authFailure, outcome: .failure, exchange, reason: "duplicate_credentials")
            return .failure(.duplicateCredentials)
        }
        guard let header = credentials.first else {
            metrics.unauthorizedAccess.increment()
            record(.authFailure, outcome: .failure, exchange, reason: "missing_credentials")
            return .failure(.missingCredentials)
        }
        guard let token = Self.bearerToken(header) else {
            metrics.authFailures.increment()
            record(.authFailure, outcome: .failure, exchange, reason: "bad_scheme")
            return .failure(.badAuthorizationScheme)
        }
        exchange.credentialFingerprint = AuditRecord.fingerprint(of: token)
        guard let verifier else {
            metrics.authFailures.increment()
            record(.authFailure, outcome: .failure, exchange, reason: "no_keys")
            return .failure(.invalidToken)
        }
        do {
            let verified = try verifier.verify(String(token))
            // A subject or scope that cannot travel in a header field would silently vanish upstream.
            guard Self.isHeaderSafe(verified.subject ?? ""), verified.scopes.allSatisfy(Self.isHeaderSafe) else {
                metrics.authFailures.increment()
                record(.authFailure, outcome: .failure, exchange, reason: "unusable_claims")
                return .failure(.invalidToken)
            }
            exchange.subject = verified.subject
            return .success(verified)
        } catch {
            metrics.authFailures.increment()
            record(.authFailure, outcome: .failure, exchange, reason: error.reason)
            return .failure(.invalidToken)
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
