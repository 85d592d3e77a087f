/// Where a route forwards to: `http://host[:port][/base]`.
///
/// Only plain `http` is accepted (upstreams sit on a private network or loopback); user info, queries and
/// fragments are refused. The base path never ends in `/`, so the request path is appended to it as is.
public struct UpstreamURL: Sendable, Hashable, CustomStringConvertible {
    /// The host: a name or an IP literal (IPv6 without brackets).
    public let host: String
    /// The TCP port; 80 when the URL has none.
    public let port: Int
    /// The path prefixed to every forwarded path: empty or `/something` without a trailing slash.
    public let basePath: String

    /// The canonical text, e.g. `http://127.0.0.1:8001/base`.
    public var description: String {
        let hostText = host.contains(":") ? "[\(host)]" : host
        return "http://\(hostText):\(port)\(basePath)"
    }

    /// An upstream from its parts; no validation, for code that built the parts itself.
    public init(host: String, port: Int, basePath: String = "") {
        self.host = host
        self.port = port
        self.basePath = basePath
    }

    /// What an error says this accepts.
    static let expectation = "an http://host:port[/base] URL (no user info, query or fragment)"

    /// Parses and validates `text`.
    ///
    /// - Throws: `ConfigError` naming `variable` (or the JSON path that `variable` stands for).
    public init(parsing text: String, variable: String) throws(ConfigError) {
        guard let parsed = Self.parse(text) else {
            throw ConfigError.invalidValue(variable, expected: Self.expectation, got: text)
        }
        self = parsed
    }

    /// The parsed URL, or nil when `text` is not an acceptable upstream.
    static func parse(_ text: String) -> UpstreamURL? {
        let scheme = "http://"
        guard text.lowercased().hasPrefix(scheme) else { return nil }
        let rest = text.dropFirst(scheme.count)
        guard !rest.contains(where: { "@?#%\\ ".contains($0) || $0.isNewline || !$0.isASCII }) else { return nil }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        var basePath = String(rest[slash...])
        while basePath.hasSuffix("/") { basePath.removeLast() }
        guard !basePath.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) else { return nil }
        guard !basePath.contains("//") else { return nil }
        guard let (host, port) = parseAuthority(authority) else { return nil }
        return UpstreamURL(host: host, port: port, basePath: basePath)
    }

    private static func parseAuthority(_ authority: Substring) -> (String, Int)? {
        var hostPart: Substring
        var portPart: Substring?
        if authority.first == "[" {
            // Bracketed IPv6 literal, then an optional `:port`.
            guard let close = authority.firstIndex(of: "]") else { return nil }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":" else { return nil }
                portPart = after.dropFirst()
            }
            guard IPAddress(hostPart) != nil, hostPart.contains(":") else { return nil }
        } else {
            let pieces = authority.split(separator: ":", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { return nil }
            hostPart = pieces[0]
            portPart = pieces.count == 2 ? pieces[1] : nil
            guard HostName.isValid(String(hostPart)) else { return nil }
        }
        var port = 80
        if let portPart {
            guard !portPart.isEmpty, portPart.count <= 5, portPart.allSatisfy(\.isASCIIDigit),
                let value = Int(portPart), (1...65535).contains(value)
            else { return nil }
            port = value
        }
        return (String(hostPart), port)
    }
}
