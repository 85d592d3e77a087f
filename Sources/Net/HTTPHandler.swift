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
    /// Subject (RFC 2253, e.g. `CN=client-1,O=Example`) of the client certificate that verified against the
    /// configured client CA during the handshake; nil without TLS, without a certificate, or unverified.
    public var clientCertificateSubject: String?
    /// Lowercase hex SHA-256 of that verified certificate's DER (64 characters); nil whenever the subject is.
    public var clientCertificateFingerprint: String?

    /// Connection facts; TLS off and no client certificate unless given.
    public init(
        remoteAddress: String, remotePort: Int, localPort: Int, isTLS: Bool = false,
        clientCertificateSubject: String? = nil, clientCertificateFingerprint: String? = nil
    ) {
        self.remoteAddress = remoteAddress
        self.remotePort = remotePort
        self.localPort = localPort
        self.isTLS = isTLS
        self.clientCertificateSubject = clientCertificateSubject
        self.clientCertificateFingerprint = clientCertificateFingerprint
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
