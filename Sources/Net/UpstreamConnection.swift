import CEpoll
import HTTPCodec

#if canImport(Glibc)
    import Glibc
#endif

/// One TCP connection to an upstream, carrying one `UpstreamStream` at a time. Loop thread only.
///
/// It sends the stream's head and body as they come and hands the response on as it arrives; while the stream
/// is paused it stops reading, so the response waits in the socket rather than in memory.
final class UpstreamConnection: EventLoopSelectable, EventLoopFlushable {
    enum State {
        case connecting, active, idle, closed
    }

    let fd: Int32
    let address: UpstreamAddress
    unowned let pool: UpstreamPool
    var state = State.connecting
    var parser: HTTPResponseParser
    var exchange: UpstreamStream?
    var reused = false
    var idleTimer: TimerID?
    var interest: UInt32 = EPOLLOUT.rawValue
    var flushScheduled = false

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

    func begin(_ exchange: UpstreamStream, reused: Bool) {
        if let idleTimer { pool.loop.cancelTimer(idleTimer) }
        idleTimer = nil
        self.exchange = exchange
        self.reused = reused
        exchange.connection = self
        parser.expectResponse(toMethod: exchange.method)
        if state == .idle {
            state = .active
            scheduleWrite()
        }
    }

    /// Sends now when a good amount is pending, else once this loop iteration's events are handled, so that a
    /// head and the body bytes that came with it leave in one system call.
    func scheduleWrite() {
        guard let exchange else { return }
        if exchange.body.count - exchange.bodyIndex >= 32 * 1024 {
            writeOut()
        } else if !flushScheduled {
            flushScheduled = true
            pool.loop.deferFlush(self)
        }
    }

    func flushDeferred() {
        flushScheduled = false
        writeOut()
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
            exchange?.progressed()
            writeOut()
        case .active:
            if events & EPOLLOUT.rawValue != 0 { writeOut() }
            let readEvents = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue
            if state == .active, events & readEvents != 0 { readable() }
        }
    }

    /// Sends what the exchange has pending: the head, then body bytes.
    func writeOut() {
        guard state == .active, let exchange, !exchange.sendBroken else { return }
        var blocked = false
        while !blocked, exchange.headSent < exchange.head.count {
            let start = exchange.headSent
            guard let n = send(exchange.head, from: start) else { return }
            if n == 0 { blocked = true } else { exchange.headSent += n }
        }
        while !blocked, exchange.headSent == exchange.head.count, exchange.bodyIndex < exchange.body.count {
            guard let n = send(exchange.body, from: exchange.bodyIndex) else { return }
            if n == 0 {
                blocked = true
            } else {
                exchange.bodyIndex += n
                exchange.bodySentToSocket = true
            }
        }
        if exchange.bodyIndex == exchange.body.count, exchange.bodyIndex > 0 {
            exchange.body.removeAll(keepingCapacity: exchange.body.capacity <= 64 * 1024)
            exchange.bodyIndex = 0
        }
        updateInterest()
        guard self.exchange === exchange else { return }
        exchange.updateWritability()
    }

    /// One `send`: the bytes sent, 0 when the socket is full, nil after a failure (handled here).
    private func send(_ bytes: [UInt8], from start: Int) -> Int? {
        let result: IOResult
        do {
            result = try bytes.withUnsafeBytes { b in
                try Syscall.io("send") { Glibc.send(fd, b.baseAddress! + start, b.count - start, Int32(MSG_NOSIGNAL)) }
            }
        } catch {
            if let exchange, exchange.headReceived || parser.hasReceivedBytes {
                // The upstream answered early and stopped reading: drop the rest of the request, read the answer.
                exchange.sendBroken = true
                exchange.body.removeAll()
                exchange.bodyIndex = 0
                updateInterest()
            } else {
                closedBeforeResponse("\(error)")
            }
            return nil
        }
        guard case .processed(let n) = result else { return 0 }
        exchange?.progressed()
        return n
    }

    /// Reads while the exchange is not paused; writes while bytes are pending.
    func updateInterest() {
        guard state == .active, let exchange else { return }
        var events: UInt32 = exchange.responsePaused ? 0 : EPOLLIN.rawValue | EPOLLRDHUP.rawValue
        let unsent = exchange.headSent < exchange.head.count || exchange.bodyIndex < exchange.body.count
        let pending = !exchange.sendBroken && unsent
        if pending { events |= EPOLLOUT.rawValue }
        setInterest(events)
    }

    private func readable() {
        guard let exchange else { return }
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
            endOfStream(exchange)
        case .processed(let n):
            exchange.progressed()
            pool.readBuffer.withUnsafeBytes { parser.feed(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
            received(exchange)
        }
    }

    /// Hands the head and body bytes on; each delegate call may end the exchange, so each is checked after.
    private func received(_ exchange: UpstreamStream) {
        do {
            if !exchange.headReceived {
                guard let head = try parser.nextHead() else { return }
                exchange.headReceived = true
                exchange.delegate?.upstreamReceivedHead(head)
                guard self.exchange === exchange else { return }
                if head.bodyLength == .none { return complete(exchange) }
            }
            var scratch: [UInt8] = []
            swap(&scratch, &pool.bodyScratch)
            scratch.removeAll(keepingCapacity: true)
            let done = try parser.readBody { scratch.append(contentsOf: $0) }
            if !scratch.isEmpty { scratch.withUnsafeBytes { exchange.delegate?.upstreamReceivedBody($0) } }
            if scratch.capacity <= 128 * 1024 { swap(&scratch, &pool.bodyScratch) }
            guard self.exchange === exchange else { return }
            if done { complete(exchange) }
        } catch {
            let truncated = error.code == "E9315"
            fail(truncated ? UpstreamError(.closedEarly) : UpstreamError(.protocolError, detail: error.message))
        }
    }

    private func endOfStream(_ exchange: UpstreamStream) {
        if !exchange.headReceived, !parser.hasReceivedBytes {
            closedBeforeResponse("closed before the response")
            return
        }
        guard exchange.headReceived else { return fail(UpstreamError(.closedEarly)) }
        do {
            if try parser.finishBody() { complete(exchange, reusable: false) }
        } catch {
            fail(UpstreamError(.closedEarly))
        }
    }

    /// The connection ended before any response byte: retry once on a fresh connection when that is safe.
    private func closedBeforeResponse(_ detail: String) {
        guard let exchange, reused, exchange.idempotent, !exchange.retried, !exchange.bodySentToSocket,
            !exchange.headReceived, !parser.hasReceivedBytes
        else {
            fail(UpstreamError(.closedEarly, detail: detail))
            return
        }
        self.exchange = nil
        exchange.connection = nil
        close()
        exchange.retried = true
        exchange.headSent = 0
        pool.run(exchange, allowReuse: false)
    }

    /// The whole response is read: pool the connection if the request went out whole and it may stay open.
    private func complete(_ exchange: UpstreamStream, reusable: Bool = true) {
        let keepAlive = reusable && exchange.requestSent && parser.lastResponseKeepAlive && !parser.hasReceivedBytes
        let delegate = exchange.delegate
        exchange.end()
        if keepAlive { pool.release(self) } else { close() }
        delegate?.upstreamEnded()
    }

    private func fail(_ error: UpstreamError) {
        let exchange = self.exchange
        close()
        exchange?.fail(error)
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
