/// How many client connections a server holds at once; past a cap a new connection is closed at once.
///
/// Connections are counted from accept to close, over every loop of the server. A refused connection gets no
/// answer (there is no request yet to answer): it is closed right after `accept`, counted in
/// `HTTPServer.refusedConnections` and reported to the server's `onConnectionRefused`.
public struct HTTPServerConnectionLimits: Sendable, Equatable {
    /// Open connections in all; default 10 000 (`MAX_CONNECTIONS`).
    public var maxConnections: Int
    /// Open connections from one client address; default 256 (`MAX_CONNECTIONS_PER_IP`). The address is the
    /// TCP peer, not `X-Forwarded-For`: behind a proxy, the proxy's address is what is counted.
    public var maxConnectionsPerAddress: Int

    /// Limits with the documented defaults, each overridable.
    public init(maxConnections: Int = 10_000, maxConnectionsPerAddress: Int = 256) {
        precondition(maxConnections > 0 && maxConnectionsPerAddress > 0, "connection caps are positive")
        self.maxConnections = maxConnections
        self.maxConnectionsPerAddress = maxConnectionsPerAddress
    }
}

/// Which cap refused a connection; a bounded set, fit for a metric label.
public enum ConnectionRefusal: String, Sendable, Equatable {
    /// The server already held `maxConnections`.
    case serverFull = "server_full"
    /// The peer's address already held `maxConnectionsPerAddress`.
    case addressFull = "address_full"
}
