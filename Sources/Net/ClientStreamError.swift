/// Why a `ClientStream` could not open or stopped; carries call names and OpenSSL's fixed reasons, never data.
public struct ClientStreamError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure; stable, bounded, fit for a metric label via `rawValue`.
    public enum Kind: String, Sendable, Equatable {
        /// Nothing listens at the address (ECONNREFUSED).
        case connectRefused = "connect_refused"
        /// The connection could not be made for another reason.
        case connectFailed = "connect_failed"
        /// The TLS handshake or a record failed, or the server's certificate did not verify.
        case tlsFailed = "tls_failed"
        /// The peer closed the connection.
        case closedByPeer = "closed_by_peer"
        /// A read or write failed.
        case ioFailed = "io_failed"
        /// More than the stream's bound waited to be written: the peer is not reading.
        case writeBufferFull = "write_buffer_full"
    }

    public let kind: Kind
    /// The failing call or OpenSSL's reason, for logs.
    public let detail: String

    public init(_ kind: Kind, detail: String = "") {
        self.kind = kind
        self.detail = detail
    }

    public var description: String { detail.isEmpty ? kind.rawValue : "\(kind.rawValue): \(detail)" }

    public static func == (a: ClientStreamError, b: ClientStreamError) -> Bool { a.kind == b.kind }
}
