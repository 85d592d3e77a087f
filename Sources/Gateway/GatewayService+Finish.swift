import Audit
import HTTPCodec
import Limits
import Net

extension GatewayService {
    /// Adds the headers every response carries, counts it and hands it to the server.
    func finish(
        _ response: HTTPResponse, _ exchange: Exchange, _ respond: @escaping @Sendable (HTTPResponse) -> Void
    ) {
        var response = response
        decorate(&response, exchange)
        observe(status: response.status, exchange)
        respond(response)
    }

    /// Adds the headers every response carries: security, HSTS over TLS, request id, rate-limit state.
    func decorate(_ response: inout HTTPResponse, _ exchange: Exchange) {
        SecurityHeaders.apply(to: &response.headers)
        if exchange.isTLS { response.headers.replaceOrAdd(SecurityHeaders.hstsName, SecurityHeaders.hstsValue) }
        if response.status >= 400 { response.headers.replaceOrAdd("Cache-Control", "no-store") }
        response.headers.replaceOrAdd("X-Request-ID", exchange.requestID)
        if let decision = exchange.rateLimit {
            response.headers.replaceOrAdd("RateLimit-Limit", String(decision.limit))
            response.headers.replaceOrAdd("RateLimit-Remaining", String(decision.remaining))
            response.headers.replaceOrAdd("RateLimit-Reset", String(decision.resetSeconds))
            if !decision.allowed { response.headers.replaceOrAdd("Retry-After", String(decision.retryAfterSeconds)) }
        }
    }

    /// Counts one request in `http_requests_total` and its duration, once it is over.
    func observe(status: Int, _ exchange: Exchange) {
        let elapsed = clock.monotonicNanoseconds() &- exchange.startNanoseconds
        metrics.observe(method: exchange.method, route: exchange.route, status: status, nanoseconds: elapsed)
    }

    /// Writes one audit record for a security decision, holding only fingerprints of credentials.
    func record(_ type: AuditEventType, outcome: AuditOutcome, _ exchange: Exchange, reason: String?) {
        guard let audit else { return }
        audit.record(
            AuditRecord(
                type: type, outcome: outcome, requestID: exchange.requestID, clientAddress: exchange.client,
                subject: exchange.subject, route: exchange.route, reason: reason,
                tokenFingerprint: exchange.credentialFingerprint))
    }
}
