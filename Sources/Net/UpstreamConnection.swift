import CEpoll
import HTTPCodec

#if canImport(Glibc)
    import Glibc
#endif

/// One TCP connection to an upstream, carrying one exchange at a time. Loop thread only.
final class UpstreamConnection: EventLoopSelectable {
    enum State {
        case connecting, active, idle, closed
    }

    let fd: Int32
    let address: UpstreamAddress
    unowned let pool: UpstreamPool
    var state = State.connecting
    var parser: HTTPResponseParser
    var exchange: UpstreamExchange?
    var reused = false
    var outIndex = 0
    var idleTimer: TimerID?
    var interest: UInt32 = EPOLLOUT.rawValue

    private init(fd: Int32, address: UpstreamAddress, pool: UpstreamPool) {
        self.fd = fd
        self.address = address
        self.pool = pool
        self.parser = HTTPResponseParser(limits: pool.limits)
    }

    /// Starts a non-blocking connect; completion is seen as writability.
    static func connect(to address: UpstreamAddress, pool: UpstreamPool) throws(UpstreamError) -> UpstreamConnection {
        let fd: Int32
        do {
            fd = try Socket.makeTCP(family: address.resolved.family)
        } catch {
            throw UpstreamError(.connectFailed, detail: error.description)
        }
        let result = address.resolved.withSockaddr { Glibc.connect(fd, $0, $1) }
        let code = errno
        if result != 0, code != EINPROGRESS {
            Syscall.close(fd)
            throw UpstreamError(
                code == ECONNREFUSED ? .connectRefused : .connectFailed,
                detail: SyscallError(call: "connect", errno: code).description)
        }
        Socket.setNoDelay(fd)
        let connection = UpstreamConnection(fd: fd, address: address, pool: pool)
        do {
            try pool.loop.register(fd, connection, events: EPOLLOUT.rawValue)
        } catch {
            Syscall.close(fd)
            throw UpstreamError(.connectFailed, detail: error.description)
        }
        return connection
    }

    func begin(_ exchange: UpstreamExchange, reused: Bool) {
        if let idleTimer { pool.loop.cancelTimer(idleTimer) }
        idleTimer = nil
        self.exchange = exchange
        self.reused = reused
        exchange.connection = self
        outIndex = 0
        parser.expectResponse(toMethod: exchange.method)
        if state == .idle {
            state = .active
            writeOut()
        }
    }

    func handleEvents(_ events: UInt32) {
        switch state {
        case .closed:
            return
        case .idle:
            // An idle upstream has nothing to say: data or a close both end the connection.
            pool.remove(self)
            close()
        case .connecting:
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            guard error == 0 else {
                let kind: UpstreamError.Kind = error == ECONNREFUSED ? .connectRefused : .connectFailed
                fail(UpstreamError(kind, detail: SyscallError(call: "connect", errno: error).description))
                return
            }
            state = .active
            writeOut()
        case .active:
            if events & EPOLLOUT.rawValue != 0 { writeOut() }
            if state == .active,
                events
                    & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue
                        | EPOLLERR.rawValue) != 0
            {
                readable()
            }
        }
    }

    private func writeOut() {
        guard let exchange else { return }
        let bytes = exchange.bytes
        while outIndex < bytes.count {
            let start = outIndex
            let result: IOResult
            do {
                result = try bytes.withUnsafeBytes { b in
                    try Syscall.io("send") { send(fd, b.baseAddress! + start, b.count - start, Int32(MSG_NOSIGNAL)) }
                }
            } catch {
                closedBeforeResponse("\(error)")
                return
            }
            guard case .processed(let n) = result else {
                setInterest(EPOLLIN.rawValue | EPOLLOUT.rawValue)
                return
            }
            outIndex += n
        }
        setInterest(EPOLLIN.rawValue | EPOLLRDHUP.rawValue)
    }

    private func readable() {
        let result: IOResult
        do {
            result = try pool.readBuffer.withUnsafeMutableBytes { buffer in
                try Syscall.io("read") { read(fd, buffer.baseAddress, buffer.count) }
            }
        } catch {
            closedBeforeResponse("\(error)")
            return
        }
        switch result {
        case .wouldBlock:
            return
        case .processed(0):
            if !parser.hasReceivedBytes {
                closedBeforeResponse("closed before the response")
                return
            }
            do {
                if let response = try parser.finish() {
                    succeed(response, keepAlive: false)
                } else {
                    fail(UpstreamError(.closedEarly))
                }
            } catch {
                fail(Self.upstreamError(error))
            }
        case .processed(let n):
            pool.readBuffer.withUnsafeBytes { parser.feed(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
            do {
                if let response = try parser.next() {
                    succeed(response, keepAlive: parser.lastResponseKeepAlive && !parser.hasReceivedBytes)
                }
            } catch {
                fail(Self.upstreamError(error))
            }
        }
    }

    private static func upstreamError(_ error: HTTPParseError) -> UpstreamError {
        switch error.status {
        case 413: UpstreamError(.responseTooLarge)
        default:
            error.code == "E9315" ? UpstreamError(.closedEarly) : UpstreamError(.protocolError, detail: error.message)
        }
    }

    /// The connection ended before any response byte: retry once on a fresh connection when that is safe.
    private func closedBeforeResponse(_ detail: String) {
        guard let exchange, reused, exchange.idempotent, !exchange.retried else {
            fail(UpstreamError(.closedEarly, detail: detail))
            return
        }
        self.exchange = nil
        close()
        exchange.retried = true
        pool.run(exchange, allowReuse: false)
    }

    private func succeed(_ response: HTTPResponse, keepAlive: Bool) {
        let exchange = self.exchange
        self.exchange = nil
        if keepAlive { pool.release(self) } else { close() }
        exchange?.finish(.success(response))
    }

    private func fail(_ error: UpstreamError) {
        let exchange = self.exchange
        self.exchange = nil
        close()
        exchange?.finish(.failure(error))
    }

    func becomeIdle(timeoutNanoseconds: UInt64) {
        state = .idle
        setInterest(EPOLLIN.rawValue | EPOLLRDHUP.rawValue)
        idleTimer = pool.loop.scheduleTimer(afterNanoseconds: timeoutNanoseconds) { [self] in
            self.idleTimer = nil
            self.pool.remove(self)
            self.close()
        }
    }

    private func setInterest(_ events: UInt32) {
        guard events != interest, state != .closed else { return }
        interest = events
        pool.loop.modify(fd, events: events)
    }

    func close() {
        guard state != .closed else { return }
        state = .closed
        if let idleTimer { pool.loop.cancelTimer(idleTimer) }
        idleTimer = nil
        exchange?.connection = nil
        exchange = nil
        pool.loop.closeDescriptor(fd)
    }
}
