import Limits

/// What the gateway learned about one request on its way through, for headers, audit and metrics.
struct Exchange: Sendable {
    let requestID: String
    /// The client's address: the socket's peer, or what a trusted proxy said.
    let client: String
    let method: String
    let startNanoseconds: UInt64
    /// Whether the request came over TLS: HTTPS answers carry HSTS.
    var isTLS = false
    /// The matched route's prefix; the bounded label for metrics.
    var route: String?
    var subject: String?
    var credentialFingerprint: String?
    var rateLimit: RateLimitDecision?

    init(requestID: String, client: String, method: String, startNanoseconds: UInt64) {
        self.requestID = requestID
        self.client = client
        self.method = method
        self.startNanoseconds = startNanoseconds
    }
}
