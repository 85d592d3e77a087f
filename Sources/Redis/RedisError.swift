/// Why a Redis command got no usable reply.
///
/// Carries a kind, Redis's error code (the first word of an error reply, such as `NOSCRIPT` or `WRONGPASS`)
/// and a detail naming a failing call. Never the command's arguments, never the reply's text: either may
/// hold a password or a key.
public struct RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure; stable, bounded, fit for a metric label via `rawValue`.
    public enum Kind: String, Sendable, Equatable {
        /// The connection is down and waiting out its reconnect backoff: refused at once, no I/O tried.
        case unavailable = "unavailable"
        /// The TCP connection could not be made.
        case connectFailed = "connect_failed"
        /// The TLS handshake failed or the server's certificate did not verify.
        case tlsFailed = "tls_failed"
        /// The connection closed while the command waited for its reply.
        case connectionLost = "connection_lost"
        /// No reply within the command timeout, or no connection within the connect timeout.
        case timeout = "timeout"
        /// Redis refused `AUTH` (wrong password or user) or demanded it (`NOAUTH`).
        case authenticationFailed = "authentication_failed"
        /// Redis refused `SELECT` of the configured database.
        case selectFailed = "select_failed"
        /// Redis answered this command with an error reply; `code` says which.
        case errorReply = "error_reply"
        /// The server's bytes were not RESP, or a reply came that no command asked for.
        case protocolError = "protocol_error"
        /// Too many commands already wait on this loop's connection.
        case overloaded = "overloaded"
    }

    public let kind: Kind
    /// The error reply's first word (`NOSCRIPT`, `WRONGPASS`, `NOAUTH`, `ERR`...), or empty.
    public let code: String
    /// A failing call or rule, for logs; never command or reply content.
    public let detail: String

    public init(_ kind: Kind, code: String = "", detail: String = "") {
        self.kind = kind
        self.code = code
        self.detail = detail
    }

    public var description: String {
        var text = "redis \(kind.rawValue)"
        if !code.isEmpty { text += " (\(code))" }
        if !detail.isEmpty { text += ": \(detail)" }
        return text
    }

    public static func == (a: RedisError, b: RedisError) -> Bool { a.kind == b.kind && a.code == b.code }

    /// The leading upper-case word of an error reply (at most 32 letters), which Redis uses as a code;
    /// `ERR` when there is none. The rest of the text, which may echo arguments, is dropped.
    public static func code(ofErrorReply text: String) -> String {
        let word = text.utf8.prefix { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
        guard !word.isEmpty, word.count <= 32 else { return "ERR" }
        return String(decoding: word, as: UTF8.self)
    }
}
