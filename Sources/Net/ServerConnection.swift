import CEpoll
import HTTPCodec

#if canImport(Glibc)
    import Glibc
#endif

/// One accepted connection: reads, parses, hands requests to the handler, writes responses in order.
///
/// On a TLS server `tls` sits between the socket and the parser: `out` then holds ciphertext.
///
/// `@unchecked Sendable`: all state (the TLS session too) is touched only on `loop`'s thread. The one path in
/// from elsewhere is the `respond` closure, which hops to the loop with `execute` before touching anything.
final class ServerConnection: EventLoopSelectable, @unchecked Sendable {
    struct Slot {
        var response: HTTPResponse?
        var keepAlive: Bool
        var isHead: Bool
    }

    enum Waiting {
        case nothing, handshake, firstHead, idle, head, body, linger
    }

    let fd: Int32
    /// Client-certificate fields are filled in once the TLS handshake has verified one.
    var info: ConnectionInfo
    let listener: ServerListener
    let loop: EventLoop
    var parser: HTTPRequestParser
    /// The TLS session, on a TLS server; nil for plain HTTP.
    let tls: TLSSession?
    var closeNotifySent = false
    /// Responses owed, in request order; `firstSeq` is the sequence number of `slots[0]`.
    var slots: [Slot] = []
    var firstSeq = 0
    var out: [UInt8] = []
    var outIndex = 0
    /// No more requests are read from this connection: close after the owed responses.
    var stopParsing = false
    /// The client waits for `100 Continue`, to be written once the answers owed before it are out.
    var continueOwed = false
    var readClosed = false
    var lingering = false
    var closed = false
    var processing = false
    var readPaused = false
    var writeArmed = false
    var interest: UInt32 = EPOLLIN.rawValue | EPOLLRDHUP.rawValue
    var waiting = Waiting.nothing
    var deadline: UInt64 = 0
    /// When the body being read must be complete, and the sequence number of the request it belongs to.
    var bodyDeadline: UInt64 = 0
    var bodyDeadlineSeq = -1
    var timer: TimerID?
    var timerAt: UInt64 = 0

    init(fd: Int32, info: ConnectionInfo, listener: ServerListener, tls: TLSSession? = nil) {
        self.tls = tls
        self.fd = fd
        self.info = info
        self.listener = listener
        self.loop = listener.loop
        self.parser = HTTPRequestParser(limits: listener.server.limits)
    }

    func start() {
        updateTimeout(progress: false)
    }

    func handleEvents(_ events: UInt32) {
        if events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 {
            close()
            return
        }
        if events & EPOLLOUT.rawValue != 0 { writeOut() }
        if !closed, events & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue) != 0 { readable() }
    }

    // MARK: Reading

    private func readable() {
        let result: IOResult
        do {
            result = try listener.readBuffer.withUnsafeMutableBytes { buffer in
                try Syscall.io("read") { read(fd, buffer.baseAddress, buffer.count) }
            }
        } catch {
            close()
            return
        }
        switch result {
        case .wouldBlock:
            return
        case .processed(0):
            readClosed = true
            if lingering || (slots.isEmpty && outIndex == out.count) {
                close()
                return
            }
            // Answer what was asked before the half-close, then close.
            stopParsing = true
            readPaused = true
            updateInterest()
        case .processed(let n):
            if lingering { return }
            if tls != nil {
                tlsReceived(n)
                return
            }
            listener.readBuffer.withUnsafeBytes { parser.feed(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
            processRequests()
            updateTimeout(progress: true)
        }
    }

    func processRequests() {
        guard !processing else { return }
        processing = true
        defer { processing = false }
        let server = listener.server
        while !stopParsing, !closed, slots.count < server.maxPipelined {
            let request: HTTPRequest
            do {
                guard let next = try parser.next() else {
                    if parser.takeContinueRequest() {
                        continueOwed = true
                        flushReady()
                    }
                    break
                }
                // The body came without waiting: a 100 still owed would now be out of place.
                continueOwed = false
                request = next
            } catch {
                // The error answer goes after the responses already owed, then the connection closes.
                slots.append(Slot(response: server.withErrorHeaders(error.response()), keepAlive: false, isHead: false))
                stopParsing = true
                flushReady()
                break
            }
            let keepAlive = request.keepAlive && !server.isShuttingDown.load(ordering: .relaxed)
            slots.append(Slot(response: nil, keepAlive: keepAlive, isHead: request.method == "HEAD"))
            if !keepAlive { stopParsing = true }
            let seq = firstSeq + slots.count - 1
            let loop = self.loop
            server.handler.handle(request, connection: info, loop: loop) { [self] response in
                if loop.inEventLoop {
                    self.complete(seq, response)
                } else {
                    loop.execute { self.complete(seq, response) }
                }
            }
        }
        // Too many answers owed: stop reading until some are written, so the buffer stays bounded.
        let full = slots.count >= server.maxPipelined
        if !closed, full != readPaused, !readClosed, !lingering {
            readPaused = full
            updateInterest()
        }
        if !closed { updateTimeout(progress: false) }
    }

    // MARK: Writing

    func complete(_ seq: Int, _ response: HTTPResponse) {
        let index = seq - firstSeq
        guard !closed, index >= 0, index < slots.count, slots[index].response == nil else { return }
        slots[index].response = response
        flushReady()
        if !closed, !stopParsing, !readPaused { processRequests() }
    }

    /// Serializes the answers at the head of the queue that are ready, then writes.
    func flushReady() {
        while let first = slots.first, let response = first.response {
            let keepAlive = first.keepAlive && !(stopParsing && slots.count == 1)
            if tls == nil {
                HTTPResponseSerializer.write(response, keepAlive: keepAlive, isHeadRequest: first.isHead, into: &out)
            } else {
                HTTPResponseSerializer.write(
                    response, keepAlive: keepAlive, isHeadRequest: first.isHead, into: &listener.tlsScratch)
            }
            slots.removeFirst()
            firstSeq += 1
            if !keepAlive {
                slots.removeAll()
                stopParsing = true
            }
        }
        if continueOwed, slots.isEmpty {
            continueOwed = false
            if !stopParsing {
                if tls == nil {
                    out.append(contentsOf: Self.continueLine)
                } else {
                    listener.tlsScratch.append(contentsOf: Self.continueLine)
                }
            }
        }
        if tls != nil {
            sealPlaintext()
            guard !closed else { return }
        }
        writeOut()
        if !closed, readPaused, !readClosed, !lingering, slots.count < listener.server.maxPipelined {
            readPaused = false
            updateInterest()
        }
    }

    private static let continueLine = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    func writeOut() {
        while outIndex < out.count {
            let start = outIndex
            let result: IOResult
            do {
                result = try out.withUnsafeBytes { bytes in
                    try Syscall.io("write") { write(fd, bytes.baseAddress! + start, bytes.count - start) }
                }
            } catch {
                close()
                return
            }
            guard case .processed(let n) = result else {
                if !writeArmed {
                    writeArmed = true
                    updateInterest()
                }
                return
            }
            outIndex += n
        }
        out.removeAll(keepingCapacity: out.capacity <= 64 * 1024)
        outIndex = 0
        if writeArmed {
            writeArmed = false
            updateInterest()
        }
        if stopParsing, slots.isEmpty {
            // TLS: close_notify goes out before the half-close.
            if tls != nil, queueCloseNotify() {
                writeOut()
                return
            }
            startLinger()
        }
        if !closed { updateTimeout(progress: false) }
    }

    private func updateInterest() {
        var events: UInt32 = readPaused ? 0 : EPOLLIN.rawValue | EPOLLRDHUP.rawValue
        if writeArmed { events |= EPOLLOUT.rawValue }
        guard events != interest, !closed else { return }
        interest = events
        loop.modify(fd, events: events)
    }

    // MARK: Closing

    /// Half-closes and drains unread input for a while, so the client reads the last answer before any reset.
    private func startLinger() {
        guard !lingering, !closed else { return }
        lingering = true
        if readClosed {
            close()
            return
        }
        _ = shutdown(fd, Int32(SHUT_WR))
        readPaused = false
        updateInterest()
        updateTimeout(progress: false)
    }

    /// Stops taking requests; idle connections close now, busy ones after their owed answers.
    func beginShutdown() {
        guard !closed else { return }
        stopParsing = true
        if slots.isEmpty, outIndex == out.count { close() }
    }

    func close() {
        guard !closed else { return }
        if tls != nil { tlsClosing() }
        closed = true
        if let timer { loop.cancelTimer(timer) }
        timer = nil
        loop.closeDescriptor(fd)
        listener.connectionClosed(fd)
    }
}
