import CEpoll
import HTTPCodec
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// An HTTP/1.1 server: one `SO_REUSEPORT` listener per event loop, strict parsing, keep-alive, pipelining,
/// buffered (`HTTPHandler`) or streaming (`HTTPStreamingHandler`) handlers.
///
/// Each connection lives on the loop that accepted it. Requests go to `handler` in order; responses are
/// written in request order whatever order `respond` is called in. A request that breaks the framing rules
/// or a limit is answered with its status and a JSON error (`E93xx`), and the connection is closed.
public final class HTTPServer: Sendable {
    let host: String
    let requestedPort: Int
    let group: EventLoopGroup
    let handler: any HTTPHandler
    /// `handler` when it streams: requests then go to it one at a time per connection, as streams.
    let streamingHandler: (any HTTPStreamingHandler)?
    let limits: HTTPParserLimits
    let timeouts: HTTPServerTimeouts
    /// Fields added to the answers the server writes itself (framing errors, timeouts), such as security headers.
    let errorHeaders: HTTPHeaders
    /// Distinguishes this server's per-loop state from others' on the same loops.
    let id: Int
    private let boundPort = Atomic<Int>(0)
    private let started = Atomic<Bool>(false)
    let isShuttingDown = Atomic<Bool>(false)
    let openConnections = Atomic<Int>(0)
    let connectionLimits: HTTPServerConnectionLimits
    /// Open connections per peer address, over every loop; an address with none has no entry.
    let connectionsPerAddress = Mutex<[String: Int]>([:])
    let refused = Atomic<UInt64>(0)
    let onConnectionRefused: @Sendable (ConnectionRefusal) -> Void
    let timedOut = Atomic<UInt64>(0)
    let onConnectionTimedOut: @Sendable (ConnectionTimeout) -> Void
    /// Serves TLS on every accepted connection when set.
    let tls: TLSContext?
    let handshakesFailed = Atomic<UInt64>(0)
    let openListeners = Atomic<Int>(0)
    /// Pipelined requests in flight per connection before the server stops reading from it.
    let maxPipelined = 16
    /// Outbound bytes per connection past which no further request is parsed and a streaming producer is
    /// told to stop (`streamWritabilityChanged(false)`): 128 KiB.
    let outputHighWaterBytes = 128 * 1024
    /// Outbound bytes per connection below which parsing and a stopped producer go on again: 32 KiB.
    let outputLowWaterBytes = 32 * 1024

    static let ids = Atomic<Int>(1)

    /// A server that is not yet listening; call `start()`.
    /// - Parameters:
    ///   - host: address to bind, an IPv4/IPv6 literal or `localhost` (`0.0.0.0` for every interface).
    ///   - port: port to bind; 0 picks a free one, read back with `port`.
    ///   - limits: parser limits; defaults 16 KiB head, 100 fields, 8 KiB target, 1 MiB body.
    ///   - timeouts: defaults 10 s head, 60 s keep-alive idle, 10 s body progress, 60 s whole body, 30 s write.
    ///   - errorHeaders: fields added to the answers the server writes itself; default none.
    ///   - connectionLimits: defaults 10 000 connections in all, 256 per client address.
    ///   - tls: when set, every accepted connection is TLS with this context (its current certificate at
    ///     accept, so `reload()` applies to new connections); default nil, plain HTTP.
    ///   - onConnectionRefused: told, on a loop thread, of every connection closed at accept by a cap; for a
    ///     counter. Must not block. Default: nothing (`refusedConnections` still counts).
    ///   - onConnectionTimedOut: told, on a loop thread, of every connection cut by a head, body, write or
    ///     handshake timeout (not the idle keep-alive close); for a counter. Must not block. Default: nothing
    ///     (`timedOutConnections` still counts).
    public init(
        host: String, port: Int, group: EventLoopGroup, handler: any HTTPHandler,
        limits: HTTPParserLimits = HTTPParserLimits(), timeouts: HTTPServerTimeouts = HTTPServerTimeouts(),
        errorHeaders: HTTPHeaders = HTTPHeaders(),
        connectionLimits: HTTPServerConnectionLimits = HTTPServerConnectionLimits(),
        tls: TLSContext? = nil,
        onConnectionRefused: @escaping @Sendable (ConnectionRefusal) -> Void = { _ in },
        onConnectionTimedOut: @escaping @Sendable (ConnectionTimeout) -> Void = { _ in }
    ) {
        self.onConnectionTimedOut = onConnectionTimedOut
        self.errorHeaders = errorHeaders
        self.connectionLimits = connectionLimits
        self.onConnectionRefused = onConnectionRefused
        self.tls = tls
        self.host = host
        self.requestedPort = port
        self.group = group
        self.handler = handler
        self.streamingHandler = handler as? any HTTPStreamingHandler
        self.limits = limits
        self.timeouts = timeouts
        self.id = Self.ids.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    /// Connections closed at accept because a cap of `connectionLimits` was reached, since start.
    public var refusedConnections: UInt64 { refused.load(ordering: .relaxed) }

    /// Connections cut by a head, body, write or handshake timeout since start.
    public var timedOutConnections: UInt64 { timedOut.load(ordering: .relaxed) }

    /// TLS connections closed because the handshake failed (bad version or suite, refused client certificate,
    /// plain HTTP on the TLS port), timed out, or the client left during it, since start.
    public var failedHandshakes: UInt64 { handshakesFailed.load(ordering: .relaxed) }

    /// Client connections open now, over every loop.
    public var openConnectionCount: Int { openConnections.load(ordering: .relaxed) }

    /// The bound port once `start()` returned (the real one when 0 was asked); 0 before.
    public var port: Int { boundPort.load(ordering: .acquiring) }

    /// Binds one listener per loop and starts accepting.
    /// - Throws: `HTTPServerError`, for example "address 0.0.0.0:8009 in use".
    public func start() throws {
        precondition(!started.exchange(true, ordering: .relaxed), "start() called twice")
        guard var address = SocketAddress.resolve(host: host, port: requestedPort, passive: true) else {
            throw HTTPServerError("cannot resolve listen address \(host):\(requestedPort)")
        }
        // SO_REUSEPORT lets a second process of the same user share the port silently; a probe bound without
        // it fails on any existing listener, so "in use" is reported instead of two servers splitting traffic.
        if requestedPort != 0 { try probeUnused(address) }
        var listeners: [Int32] = []
        do {
            for _ in group.loops {
                let fd = try makeListener(address)
                listeners.append(fd)
                if listeners.count == 1 {
                    // Port 0: every other loop binds the port the kernel chose for the first.
                    let (_, bound) = SocketAddress.filling { getsockname(fd, $0, $1) }
                    address = bound
                    boundPort.store(bound.hostAndPort.1, ordering: .releasing)
                }
            }
        } catch {
            for fd in listeners { Syscall.close(fd) }
            throw error
        }
        openListeners.store(listeners.count, ordering: .releasing)
        for (loop, fd) in zip(group.loops, listeners) {
            loop.execute { ServerListener.start(fd: fd, server: self, loop: loop) }
        }
    }

    private func probeUnused(_ address: SocketAddress) throws {
        let where_ = "\(host):\(requestedPort)"
        let fd: Int32
        do {
            fd = try Socket.makeTCP(family: address.family)
        } catch {
            throw HTTPServerError("cannot listen on \(where_): \(error)")
        }
        defer { Syscall.close(fd) }
        Socket.setOption(fd, SOL_SOCKET, SO_REUSEADDR)
        if address.withSockaddr({ bind(fd, $0, $1) }) != 0 {
            let code = errno
            if code == EADDRINUSE { throw HTTPServerError("address \(where_) in use") }
            throw HTTPServerError("cannot bind \(where_): \(SyscallError(call: "bind", errno: code))")
        }
    }

    private func makeListener(_ address: SocketAddress) throws -> Int32 {
        let where_ = "\(host):\(requestedPort)"
        let fd: Int32
        do {
            fd = try Socket.makeTCP(family: address.family)
        } catch {
            throw HTTPServerError("cannot listen on \(where_): \(error)")
        }
        Socket.setOption(fd, SOL_SOCKET, SO_REUSEADDR)
        Socket.setOption(fd, SOL_SOCKET, SO_REUSEPORT)
        if address.withSockaddr({ bind(fd, $0, $1) }) != 0 {
            let code = errno
            Syscall.close(fd)
            if code == EADDRINUSE { throw HTTPServerError("address \(where_) in use") }
            throw HTTPServerError("cannot bind \(where_): \(SyscallError(call: "bind", errno: code))")
        }
        if listen(fd, 1024) != 0 {
            let code = errno
            Syscall.close(fd)
            throw HTTPServerError("cannot listen on \(where_): \(SyscallError(call: "listen", errno: code))")
        }
        return fd
    }

    /// Stops gracefully: stop accepting, let in-flight requests finish and their responses be written
    /// (with `Connection: close`), close idle connections; at `deadline` close whatever is left.
    /// Blocks the caller until every connection is closed; must not be called on one of the group's loops.
    public func shutdown(deadline: Duration = .seconds(10)) {
        precondition(!group.loops.contains { $0.inEventLoop }, "shutdown(deadline:) would block its own loop")
        isShuttingDown.store(true, ordering: .relaxed)
        let (seconds, attoseconds) = deadline.components
        let grace = UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
        let end = EventLoop.now() + grace
        for loop in group.loops {
            loop.execute { ServerListener.beginShutdown(server: self, loop: loop, graceNanoseconds: grace) }
        }
        // Wait a little past the deadline for the loops' forced closes to run.
        while openConnections.load(ordering: .acquiring) > 0 || openListeners.load(ordering: .acquiring) > 0 {
            if EventLoop.now() > end + 1_000_000_000 { break }
            usleep(2_000)
        }
    }
}

extension HTTPServer {
    /// `response` with the server's `errorHeaders` added, for answers the server writes itself.
    func withErrorHeaders(_ response: HTTPResponse) -> HTTPResponse {
        var response = response
        for field in errorHeaders { response.headers.replaceOrAdd(field.name, field.value) }
        return response
    }
}
