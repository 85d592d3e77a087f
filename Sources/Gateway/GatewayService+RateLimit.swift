import HTTPCodec
import Limits
import Net

extension GatewayError {
    /// 503 while the shared limiter store cannot answer and `RATE_LIMIT_FAIL_MODE=closed`.
    public static let rateLimitUnavailable = GatewayError(503, "E9910", "rate limiting is unavailable")
}

extension GatewayService {
    /// The per-client-address limit, the pipeline's first step, then the rest of the pipeline.
    ///
    /// In memory (and with Redis while its circuit is open) the verdict is immediate and the pipeline goes on
    /// in this call, allocating nothing. With Redis the verdict is a round trip: the pipeline goes on in the
    /// completion, on this same loop thread.
    func limitThenContinue(_ request: HTTPRequest, stream: any HTTPServerStream, _ exchange: Exchange) {
        guard let limiter else { return afterLimit(request, stream: stream, exchange) }
        let key = ClientKey.limitKey(exchange.client)
        if let verdict = limiter.decideWithoutWaiting(key: key, policy: settings.rateLimit) {
            return apply(verdict, request, stream: stream, exchange)
        }
        limiter.decide(key: key, policy: settings.rateLimit, on: stream.loop) { [self] verdict in
            apply(verdict, request, stream: stream, exchange)
        }
    }

    private func apply(
        _ verdict: RateLimitVerdict, _ request: HTTPRequest, stream: any HTTPServerStream, _ exchange: Exchange
    ) {
        let respond: @Sendable (HTTPResponse) -> Void = { stream.respond($0) }
        var exchange = exchange
        switch verdict {
        case .decided(let decision):
            exchange.rateLimit = decision
            guard decision.allowed else {
                metrics.rateLimited.increment()
                record(.rateLimitExceeded, outcome: .denied, exchange, reason: "per_ip")
                return finish(GatewayError.rateLimited.response(requestID: exchange.requestID), exchange, respond)
            }
        case .unlimited:
            // Fail open: passes without a decision, so without rate-limit headers.
            break
        case .unavailable:
            var response = GatewayError.rateLimitUnavailable.response(requestID: exchange.requestID)
            response.headers.add("Retry-After", "1")
            return finish(response, exchange, respond)
        }
        afterLimit(request, stream: stream, exchange)
    }
}
