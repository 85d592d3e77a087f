import CEpoll

#if canImport(Glibc)
    import Glibc
#endif

/// What a `ClientStream` tells its owner; every call comes on the stream's loop thread.
public protocol ClientStreamDelegate: AnyObject {
    /// The TCP connection is up and, with TLS, the handshake has verified the server.
    func streamDidOpen(_ stream: ClientStream)
    /// Plaintext arrived; the bytes are valid only during the call.
    func stream(_ stream: ClientStream, didReceive bytes: UnsafeRawBufferPointer)
    /// The stream failed or the peer closed it; it is closed now. Not called after the owner's `close()`.
    func stream(_ stream: ClientStream, didCloseWith error: ClientStreamError)
}

/// One outgoing TCP connection on an event loop, optionally TLS, carrying a byte stream both ways.
///
/// A transport for protocols written on top (the Redis client): it connects without blocking, runs the TLS
/// handshake over `TLSSession`'s memory buffers, queues writes made before it is open, and hands received
/// plaintext to its delegate. Writes are buffered up to `maxBufferedBytes`; past that the peer is taken for
/// stuck and the stream fails. Loop thread only.
public final class ClientStream: EventLoopSelectable {
    private enum State {
        case connecting, handshaking, open, closed
    }

    private let fd: Int32
    private let loop: EventLoop
    /// The owner; weak, because the owner keeps the stream.
    public weak var delegate: ClientStreamDelegate?
    private var state = State.connecting
    private let tls: TLSSession?
    private let maxBufferedBytes: Int
    /// Bytes for the socket (ciphertext under TLS) and how far they have gone out.
    private var out: [UInt8] = []
    private var outIndex = 0
    /// Plaintext written before the TLS handshake finished.
    private var backlog: [UInt8] = []
    private var interest = EPOLLOUT.rawValue
    private var readBuffer = [UInt8](repeating: 0, count: 16 * 1024)
    private var plaintext: [UInt8] = []
    private var flushScheduled = false

    private init(fd: Int32, loop: EventLoop, tls: TLSSession?, maxBufferedBytes: Int) {
        self.fd = fd
        self.loop = loop
        self.tls = tls
        self.maxBufferedBytes = maxBufferedBytes
    }

    /// Starts connecting to `address`; the delegate hears `streamDidOpen` or `didCloseWith`. Loop thread only.
    /// - Parameters:
    ///   - tls: verify and encrypt with this context; nil for plain TCP.
    ///   - host: the name (or IP literal) the server's certificate must carry; used with `tls` only.
    ///   - maxBufferedBytes: unsent bytes allowed before the stream fails; default 8 MiB.
    /// - Throws: `ClientStreamError` when the socket or TLS session cannot be made, or the connect fails at once.
    public static func connect(
        to address: UpstreamAddress, tls: TLSClientContext?, host: String, on loop: EventLoop,
        delegate: ClientStreamDelegate, maxBufferedBytes: Int = 8 * 1024 * 1024
    ) throws(ClientStreamError) -> ClientStream {
        loop.assertInEventLoop()
        var session: TLSSession?
        do {
            session = try tls?.makeSession(host: host)
        } catch {
            throw ClientStreamError(.tlsFailed, detail: error.description)
        }
        let fd: Int32
        do {
            fd = try Socket.makeTCP(family: address.resolved.family)
        } catch {
            throw ClientStreamError(.connectFailed, detail: error.description)
        }
        let result = address.resolved.withSockaddr { Glibc.connect(fd, $0, $1) }
        let code = errno
        if result != 0, code != EINPROGRESS {
            Syscall.close(fd)
            throw ClientStreamError(
                code == ECONNREFUSED ? .connectRefused : .connectFailed,
                detail: SyscallError(call: "connect", errno: code).description)
        }
        Socket.setNoDelay(fd)
        let stream = ClientStream(fd: fd, loop: loop, tls: session, maxBufferedBytes: maxBufferedBytes)
        stream.delegate = delegate
        do {
            try loop.register(fd, stream, events: EPOLLOUT.rawValue)
        } catch {
            Syscall.close(fd)
            throw ClientStreamError(.connectFailed, detail: error.description)
        }
        return stream
    }

    /// Whether the stream is connected (and, with TLS, verified) and not closed.
    public var isOpen: Bool { state == .open }

    /// Whether the stream has been closed, by either side.
    public var isClosed: Bool { state == .closed }

    // MARK: Writing

    /// Queues `bytes` and writes what the socket takes now; before the stream opens they wait.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        switch state {
        case .closed:
            return
        case .open:
            if let tls {
                do {
                    try tls.writePlaintext(bytes)
                } catch {
                    fail(ClientStreamError(.tlsFailed, detail: error.description))
                    return
                }
                tls.takeCiphertextToSend(into: &out)
            } else {
                out.append(contentsOf: bytes)
            }
        case .connecting, .handshaking:
            if tls == nil { out.append(contentsOf: bytes) } else { backlog.append(contentsOf: bytes) }
        }
        guard out.count - outIndex + backlog.count <= maxBufferedBytes else {
            fail(ClientStreamError(.writeBufferFull))
            return
        }
        if state == .open { scheduleFlush() }
    }

    /// Writes go out once per loop iteration, after the events being handled: the commands of many requests
    /// that one `epoll_wait` woke then share one `send`.
    private func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        // A timer due now runs at the end of this loop iteration, after the events: no syscall, no lock.
        loop.scheduleTimer(afterNanoseconds: 0) { [self] in
            flushScheduled = false
            if state == .open || state == .handshaking { flush() }
        }
    }

    /// Queues `bytes`; see `write(_:)`.
    public func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    /// Closes the connection now, dropping unsent bytes; the delegate is not called.
    public func close() {
        guard state != .closed else { return }
        state = .closed
        loop.closeDescriptor(fd)
    }

    // MARK: Events

    func handleEvents(_ events: UInt32) {
        switch state {
        case .closed:
            return
        case .connecting:
            connected()
        case .handshaking, .open:
            if events & EPOLLOUT.rawValue != 0 { flush() }
            let readable = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue
            if state != .closed, events & readable != 0 { readAvailable() }
        }
    }

    private func connected() {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        guard error == 0 else {
            let kind: ClientStreamError.Kind = error == ECONNREFUSED ? .connectRefused : .connectFailed
            fail(ClientStreamError(kind, detail: SyscallError(call: "connect", errno: error).description))
            return
        }
        guard let tls else {
            state = .open
            setInterest(EPOLLIN.rawValue | EPOLLRDHUP.rawValue)
            delegate?.streamDidOpen(self)
            if state == .open { flush() }
            return
        }
        // The client speaks first: the ClientHello goes out now.
        state = .handshaking
        tls.advanceHandshake()
        tls.takeCiphertextToSend(into: &out)
        flush()
    }

    private func readAvailable() {
        let result: IOResult
        do {
            result = try readBuffer.withUnsafeMutableBytes { buffer in
                try Syscall.io("read") { read(fd, buffer.baseAddress, buffer.count) }
            }
        } catch {
            fail(ClientStreamError(.ioFailed, detail: "\(error)"))
            return
        }
        switch result {
        case .wouldBlock:
            return
        case .processed(0):
            fail(ClientStreamError(.closedByPeer))
        case .processed(let count):
            if let tls {
                readBuffer.withUnsafeBytes { tls.feedCiphertext(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
                receiveTLS(tls)
            } else {
                readBuffer.withUnsafeBytes {
                    delegate?.stream(self, didReceive: UnsafeRawBufferPointer(rebasing: $0[..<count]))
                }
            }
        }
    }

    /// Moves the handshake on, then hands over whatever plaintext the records held.
    private func receiveTLS(_ tls: TLSSession) {
        if state == .handshaking {
            switch tls.advanceHandshake() {
            case .handshaking:
                tls.takeCiphertextToSend(into: &out)
                flush()
                return
            case .established:
                state = .open
                setInterest(EPOLLIN.rawValue | EPOLLRDHUP.rawValue)
                // What the owner wrote while the handshake ran goes out first, in order.
                let waiting = backlog
                backlog = []
                if !waiting.isEmpty { write(waiting) }
                guard state == .open else { return }
                delegate?.streamDidOpen(self)
                guard state == .open else { return }
            case .closed, .failed:
                fail(ClientStreamError(.tlsFailed, detail: Self.reason(tls.state)))
                return
            }
        }
        let chunk = 64 * 1024
        var sessionState = TLSSession.State.established
        repeat {
            plaintext.removeAll(keepingCapacity: true)
            sessionState = tls.readPlaintext(into: &plaintext, maxBytes: chunk)
            if !plaintext.isEmpty { plaintext.withUnsafeBytes { delegate?.stream(self, didReceive: $0) } }
        } while state == .open && sessionState == .established && plaintext.count == chunk
        guard state == .open else { return }
        guard sessionState == .established else {
            fail(
                ClientStreamError(
                    sessionState == .closed ? .closedByPeer : .tlsFailed, detail: Self.reason(sessionState)))
            return
        }
        tls.takeCiphertextToSend(into: &out)
        flush()
    }

    private static func reason(_ state: TLSSession.State) -> String {
        if case .failed(let reason) = state { return reason }
        return "closed during the handshake"
    }

    /// Sends what waits in `out`; asks for writability when the socket is full.
    private func flush() {
        while outIndex < out.count {
            let start = outIndex
            let result: IOResult
            do {
                result = try out.withUnsafeBytes { bytes in
                    try Syscall.io("send") {
                        send(fd, bytes.baseAddress! + start, bytes.count - start, Int32(MSG_NOSIGNAL))
                    }
                }
            } catch {
                fail(ClientStreamError(.ioFailed, detail: "\(error)"))
                return
            }
            guard case .processed(let sent) = result else {
                setInterest(EPOLLIN.rawValue | EPOLLOUT.rawValue | EPOLLRDHUP.rawValue)
                return
            }
            outIndex += sent
        }
        out.removeAll(keepingCapacity: out.capacity <= 64 * 1024)
        outIndex = 0
        setInterest(EPOLLIN.rawValue | EPOLLRDHUP.rawValue)
    }

    private func setInterest(_ events: UInt32) {
        guard events != interest, state != .closed else { return }
        interest = events
        loop.modify(fd, events: events)
    }

    private func fail(_ error: ClientStreamError) {
        guard state != .closed else { return }
        close()
        delegate?.stream(self, didCloseWith: error)
    }
}
