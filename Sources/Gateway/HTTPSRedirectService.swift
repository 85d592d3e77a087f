import HTTPCodec
import Net

/// The plain-HTTP listener when `TLS_REDIRECT_HTTP=true`: every request is answered `308 Permanent Redirect`
/// to the same normalised path on HTTPS, and nothing is proxied in clear text.
///
/// The host comes from the request's `Host` only when it is a plain name or IP literal (letters, digits, `-`, `.`,
/// or a bracketed IPv6 literal); anything else is answered 400, so no header can inject into `Location`.
public final class HTTPSRedirectService: HTTPHandler {
    let httpsPort: Int

    /// - Parameter httpsPort: the port clients reach the HTTPS listener on; omitted from `Location` when 443.
    public init(httpsPort: Int) {
        self.httpsPort = httpsPort
    }

    public func handle(
        _ request: HTTPRequest, connection: ConnectionInfo, loop: EventLoop,
        respond: @escaping @Sendable (HTTPResponse) -> Void
    ) {
        let target: RequestTarget
        do {
            target = try RequestTarget(parsing: request.target)
        } catch {
            return respond(GatewayError(target: error).response(requestID: ""))
        }
        guard let host = request.headers.first("Host").flatMap(Self.hostName) else {
            return respond(GatewayError.badHost.response(requestID: ""))
        }
        var headers = GatewayService.serverErrorHeaders
        let authority = httpsPort == 443 ? host : "\(host):\(httpsPort)"
        headers.add("Location", "https://\(authority)\(target.normalised)")
        respond(HTTPResponse(status: 308, headers: headers))
    }

    /// The host part of a `Host` value without its port, when it is a plain name or IP literal.
    static func hostName(_ value: String) -> String? {
        var host = Substring(value)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let literal = host[host.index(after: host.startIndex)..<close]
            guard !literal.isEmpty,
                literal.utf8.allSatisfy({ isHex($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") })
            else { return nil }
            let rest = host[host.index(after: close)...]
            guard rest.isEmpty || isPort(rest) else { return nil }
            return String(host[...close])
        }
        if let colon = host.firstIndex(of: ":") {
            guard isPort(host[colon...]) else { return nil }
            host = host[..<colon]
        }
        guard (1...253).contains(host.utf8.count) else { return nil }
        let plain = host.utf8.allSatisfy { b in
            (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39)
                || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
        }
        return plain ? String(host) : nil
    }

    private static func isHex(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46)
    }

    /// `:` followed by 1–5 digits.
    private static func isPort(_ text: Substring) -> Bool {
        let digits = text.utf8.dropFirst()
        return text.first == ":" && (1...5).contains(digits.count)
            && digits.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
}
