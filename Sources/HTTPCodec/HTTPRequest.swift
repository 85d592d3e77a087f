/// The HTTP version of a message; only 1.0 and 1.1 are spoken here.
public struct HTTPVersion: Sendable, Equatable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)

    public var description: String { "HTTP/\(major).\(minor)" }
}

/// A request whose framing has been checked and whose body has been read whole
/// (de-chunked, trailers dropped).
public struct HTTPRequest: Sendable {
    /// The method token exactly as received, for example `GET`.
    public var method: String
    /// The request-target exactly as received, for example `/api/v1/events?limit=5`.
    public var target: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(
        method: String, target: String, version: HTTPVersion = .http1_1, headers: HTTPHeaders = HTTPHeaders(),
        body: [UInt8] = []
    ) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
    }

    /// The target up to, not including, the first `?`.
    public var path: Substring {
        if let q = target.utf8.firstIndex(of: UInt8(ascii: "?")) { return target[..<q] }
        return target[...]
    }

    /// The target after the first `?`, or nil when there is none.
    public var query: Substring? {
        guard let q = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return nil }
        return target[target.index(after: q)...]
    }

    /// Whether the connection stays open after this request, by version and `Connection`.
    public var keepAlive: Bool {
        var close = false
        var keep = false
        for value in headers.all("Connection") {
            for token in value.split(separator: ",") {
                let t = token.trimmingSpaces()
                if HTTPHeaders.namesEqual(String(t), "close") { close = true }
                if HTTPHeaders.namesEqual(String(t), "keep-alive") { keep = true }
            }
        }
        if close { return false }
        return version == .http1_1 || keep
    }
}

extension Substring {
    /// The substring without leading and trailing spaces and tabs.
    public func trimmingSpaces() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }
}
