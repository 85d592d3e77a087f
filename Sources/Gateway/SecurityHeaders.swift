import HTTPCodec

/// The headers every gateway response carries, whoever produced it.
enum SecurityHeaders {
    static let always: [(String, String)] = [
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
    ]

    /// HTTP Strict Transport Security on HTTPS answers only (RFC 6797 §7.2 ignores it over plain HTTP):
    /// one year, subdomains included.
    static let hstsName = "Strict-Transport-Security"
    static let hstsValue = "max-age=31536000; includeSubDomains"

    /// Sets the security headers on `headers`, replacing any an upstream sent.
    static func apply(to headers: inout HTTPHeaders) {
        for (name, value) in always { headers.replaceOrAdd(name, value) }
    }
}

extension GatewayService {
    /// The fields an `HTTPServer` in front of the gateway adds to the answers it writes itself (framing
    /// errors, timeouts): the security headers every gateway response carries, and `Cache-Control: no-store`.
    public static var serverErrorHeaders: HTTPHeaders {
        var headers = HTTPHeaders()
        SecurityHeaders.apply(to: &headers)
        headers.add("Cache-Control", "no-store")
        return headers
    }
}
