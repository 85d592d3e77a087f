import HTTPCodec

/// Which request and response headers the gateway removes, and which it owns.
///
/// Names compare as the gateway normalises them: ASCII case-insensitive, with `_` and `.` read as `-`,
/// so `X_Forwarded_For` and `x.forwarded.for` are the same field as `X-Forwarded-For`.
enum ForwardedHeaders {
    /// Hop-by-hop fields (RFC 9110 §7.6.1), never forwarded in either direction.
    static let hopByHop: [String] = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te",
        "trailer", "transfer-encoding", "upgrade",
    ]

    /// Fields only the gateway may set on the way to an upstream; client copies are dropped.
    static let gatewayOwnedExact: [String] = [
        "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port", "x-real-ip", "forwarded",
        "x-request-id", "x-service-key", "content-length",
        // The gateway answered the client's expectation itself and sends the body at once.
        "expect",
        // Ask an upstream framework to route or act differently from what the gateway authorized.
        "x-original-url", "x-original-uri", "x-rewrite-url", "x-http-method-override", "x-http-method",
        "x-method-override",
    ]

    /// Prefixes of fields only the gateway may set.
    static let gatewayOwnedPrefixes: [String] = ["x-consumer-", "x-forwarded-"]

    /// `name` lower-cased with `_` and `.` turned into `-`.
    static func normalised(_ name: String) -> String {
        var bytes = Array(name.utf8)
        for i in bytes.indices {
            let b = bytes[i]
            if b >= 0x41 && b <= 0x5A {
                bytes[i] = b | 0x20
            } else if b == UInt8(ascii: "_") || b == UInt8(ascii: ".") {
                bytes[i] = UInt8(ascii: "-")
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The lower-cased names that `Connection` lists, which are hop-by-hop for this message.
    static func connectionListed(_ headers: HTTPHeaders) -> [String] {
        var names: [String] = []
        for value in headers.all("Connection") {
            for token in value.split(separator: ",") {
                let t = token.trimmingSpaces()
                if !t.isEmpty { names.append(normalised(String(t))) }
            }
        }
        return names
    }

    /// Whether a client-sent request field must not reach the upstream.
    static func dropFromRequest(_ name: String, connectionListed: [String]) -> Bool {
        let n = normalised(name)
        if hopByHop.contains(n) || gatewayOwnedExact.contains(n) || connectionListed.contains(n) { return true }
        for prefix in gatewayOwnedPrefixes where n.hasPrefix(prefix) { return true }
        return false
    }

    /// Whether an upstream response field must not reach the client.
    static func dropFromResponse(_ name: String, connectionListed: [String]) -> Bool {
        let n = normalised(name)
        return hopByHop.contains(n) || n == "content-length" || connectionListed.contains(n)
    }
}
