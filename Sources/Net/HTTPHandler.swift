import HTTPCodec

/// Facts about the connection a request arrived on, taken from the socket, never from headers.
public struct ConnectionInfo: Sendable {
    /// The peer's IP address in text form (`203.0.113.7`, `2001:db8::1`).
    public var remoteAddress: String
    public var remotePort: Int
    /// The local port that accepted the connection.
    public var localPort: Int
    /// Whether the connection is TLS.
    public var isTLS: Bool

    public init(remoteAddress: String, remotePort: Int, localPort: Int, isTLS: Bool = false) {
        self.remoteAddress = remoteAddress
        self.remotePort = remotePort
        self.localPort = localPort
        self.isTLS = isTLS
    }
}

/// Answers requests that the server has parsed and framed.
///
/// `handle` is called on the connection's event loop thread and must not block it:
/// blocking work (a database write) runs elsewhere and calls `respond` when done.
/// `respond` may be called from any thread, exactly once; the server writes responses
/// in request order even when a pipelined later request is answered first.
public protocol HTTPHandler: Sendable {
    func handle(
        _ request: HTTPRequest,
        connection: ConnectionInfo,
        loop: EventLoop,
        respond: @escaping @Sendable (HTTPResponse) -> Void
    )
}
