/// How long the server waits for a client, in nanoseconds; a client past one is answered 408 or dropped.
public struct HTTPServerTimeouts: Sendable, Equatable {
    /// From the first byte of a request (or the accept) to the end of its head; default 10 s. Then 408.
    public var headNanoseconds: UInt64
    /// Between two requests on a keep-alive connection; default 60 s. Then the connection is closed silently.
    public var idleNanoseconds: UInt64
    /// Longest wait for more body bytes; default 10 s. Then 408.
    public var bodyProgressNanoseconds: UInt64
    /// Longest time to receive a whole body, from the end of its head; default 60 s. Then 408 and a close.
    ///
    /// Progress alone is not enough: a client sending one byte just inside every `bodyProgressNanoseconds`
    /// would otherwise hold its connection forever.
    public var bodyTotalNanoseconds: UInt64
    /// After the last response of a closing connection, how long unread input is drained; default 2 s.
    public var lingerNanoseconds: UInt64
    /// Longest wait for the client to take any byte of an answer that is ready; default 30 s
    /// (`WRITE_TIMEOUT_SECONDS`). Then the connection is closed: a client that stops reading holds no memory.
    public var writeNanoseconds: UInt64
    /// A streamed request body's total deadline grows by one second per this many bytes received; default
    /// 64 KiB. A large upload that keeps this pace is never cut, a trickle is cut at `bodyTotalNanoseconds`.
    public var streamedBodyMinBytesPerSecond: UInt64
    /// On a TLS server, from the accept to the end of the handshake; default 10 s. Then the connection is
    /// closed without an answer and counted as a failed handshake.
    public var handshakeNanoseconds: UInt64

    /// Timeouts with the documented defaults, each overridable.
    public init(
        headNanoseconds: UInt64 = 10_000_000_000,
        idleNanoseconds: UInt64 = 60_000_000_000,
        bodyProgressNanoseconds: UInt64 = 10_000_000_000,
        lingerNanoseconds: UInt64 = 2_000_000_000,
        bodyTotalNanoseconds: UInt64 = 60_000_000_000,
        handshakeNanoseconds: UInt64 = 10_000_000_000,
        writeNanoseconds: UInt64 = 30_000_000_000,
        streamedBodyMinBytesPerSecond: UInt64 = 64 * 1024
    ) {
        self.writeNanoseconds = writeNanoseconds
        self.streamedBodyMinBytesPerSecond = streamedBodyMinBytesPerSecond
        self.handshakeNanoseconds = handshakeNanoseconds
        self.headNanoseconds = headNanoseconds
        self.idleNanoseconds = idleNanoseconds
        self.bodyProgressNanoseconds = bodyProgressNanoseconds
        self.lingerNanoseconds = lingerNanoseconds
        self.bodyTotalNanoseconds = bodyTotalNanoseconds
    }
}

/// Which wait a connection was cut at by its timeout; a bounded set, fit for a metric label.
public enum ConnectionTimeout: String, Sendable, Equatable {
    /// The TLS handshake did not finish.
    case handshake
    /// The request head did not arrive whole (slowloris), or nothing arrived after the accept.
    case head
    /// The body stalled or trickled past its total deadline (slow body).
    case body
    /// The client took no byte of an answer (slow reader).
    case write
}

/// Why the server could not start, in one line an operator can act on.
public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    public let description: String

    init(_ description: String) { self.description = description }
}
