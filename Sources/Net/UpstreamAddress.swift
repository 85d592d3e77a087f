/// An upstream's host and port, resolved once with getaddrinfo when created, never per request.
public struct UpstreamAddress: Sendable, Hashable, CustomStringConvertible {
    /// The host as given: an IPv4/IPv6 literal or `localhost`.
    public let host: String
    public let port: Int
    let resolved: SocketAddress

    /// Resolves `host:port` now.
    /// - Throws: `UpstreamError.connectFailed` when the host does not resolve or the port is out of range.
    public init(host: String, port: Int) throws(UpstreamError) {
        guard let resolved = SocketAddress.resolve(host: host, port: port) else {
            throw UpstreamError(.connectFailed, detail: "cannot resolve \(host):\(port)")
        }
        self.host = host
        self.port = port
        self.resolved = resolved
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public static func == (a: UpstreamAddress, b: UpstreamAddress) -> Bool { a.host == b.host && a.port == b.port }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(host)
        hasher.combine(port)
    }
}
