import CEpoll
import HTTPCodec

#if canImport(Glibc)
    import Glibc
#endif

/// One accepted connection: reads, parses, hands requests to the handler, writes responses in order.
///
/// A buffered handler gets whole requests, up to `maxPipelined` at once, answered in request order. A
/// streaming handler gets one request at a time as a `ServerStream` (see `ServerConnection+Streaming`).
/// Either way the outbound buffer is bounded: past `outputHighWaterBytes` no further request is parsed and a
/// streaming producer is told to stop, and a client that takes no byte for `writeNanoseconds` is dropped.
/// On a TLS server `tls` sits between the socket and the parser: `out` then holds ciphertext.
///
/// `@unchecked Sendable`: all state (the TLS session too) is touched only on `loop`'s thread. The one path in
/// from elsewhere is the `respond` closure, which hops to the loop with `execute` before touching anything.
final class ServerConnection: EventLoopSelectable, EventLoopFlushable, @unchecked Sendable {
    struct Slot {
        var response: HTTPResponse?
        var keepAlive: Bool
        var isHead: Bool
    }

    enum Waiting {
        case nothing, handshake, firstHead, idle, head, body, write, linger
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
    /// The streaming request in progress; while set, no further head is parsed.
    var current: ServerStream?
    var out: [UInt8] = []
    var outIndex = 0
    /// No more requests are read from this connection: close after the owed responses.
    var stopParsing = false
    /// The client waits for `100 Continue`, to be written once the answers owed before it are out.
    var continueOwed = false
    var readClosed = false
    /// The peer hung up while nothing was being read; its EOF is read once reading resumes.
    var hangupSeen = false
    /// Parsing stopped because the outbound buffer passed its high-water mark.
    var blockedByOutput = false
    var lingering = false
    var closed = false
    var processing = false
    var flushScheduled = false
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
        updateTimeout()
    }

    /// Bytes serialized but not yet taken by the socket.
    var pendingOutput: Int { out.count - outIndex }

    /// Whether the connection wants bytes from the client now; otherwise they wait in the socket.
    var wantsInput: Bool {
        if lingering { return true }
        if closed || readClosed { return false }
        if let current { return current.readingBody }
        if stopParsing || blockedByOutput { return false }
        if let tls, tls.state == .handshaking { return true }
        return slots.count < listener.server.maxPipelined
    }

    func handleEvents(_ events: UInt32) {
        if events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 {
            close()
            return
        }
        if events & EPOLLOUT.rawValue != 0 { writeOut() }
        guard !closed, events & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue) != 0 else { return }
        if wantsInput {
            readable()
            return
        }
        if events & EPOLLRDHUP.rawValue != 0 {
            // A streamed exchange whose client hung up with nothing left unread is abandoned (as nginx does), so
            // its upstream is let go at once rather than when an answer finally fails to be written.
            if current != nil, peerClosedWithNothingPending() {
                close()
                return
            }
            // Level-triggered, a hang-up would be reported again and again: stop asking until reading resumes.
            hangupSeen = true
        }
        updateInterest(dropUnwantedInput: true)
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
            // A body cut short by a half-close cannot be finished: the client that can still read is told so.
            if !lingering, slots.isEmpty, current == nil, parser.phase == .body {
                queueErrorAnswer(listener.server.withErrorHeaders(Self.truncatedBody))
                return
            }
            if lingering || (slots.isEmpty && current == nil && pendingOutput == 0) {
                close()
                return
            }
            // A streamed body cut short: the handler lets go; anything asked before the half-close is answered.
            if let current, !current.bodyComplete, current.bodyWanted {
                refuseBody(current, listener.server.withErrorHeaders(Self.truncatedBody))
                return
            }
            stopParsing = true
            updateInterest()
        case .processed(let n):
            if lingering { return }
            if tls != nil {
                tlsReceived(n)
                return
            }
            listener.readBuffer.withUnsafeBytes { parser.feed(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
            inputArrived()
        }
    }

    /// Whether the peer's end of stream is the next thing to read (a peek, nothing consumed).
    private func peerClosedWithNothingPending() -> Bool {
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT)) == 0
    }

    /// Hands newly parsed input on: body bytes to the current stream, then further requests.
    func inputArrived() {
        if current != nil { deliverBody() }
        if !closed { processRequests() }
        if !closed { updateTimeout(read: true) }
    }

    func processRequests() {
        guard !processing, !closed else { return }
        processing = true
        defer { processing = false }
        if let handler = listener.server.streamingHandler {
            processStreaming(handler)
        } else {
            processBuffered()
        }
        updateInterest()
        if !closed { updateTimeout() }
    }

    private func processBuffered() {
        let server = listener.server
        while !stopParsing, !closed, slots.count < server.maxPipelined {
            // A client that does not read its answers gets no more of them made.
            if pendingOutput > server.outputHighWaterBytes {
                blockedByOutput = true
                break
            }
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
                queueErrorAnswer(server.withErrorHeaders(error.response()))
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
    }

    /// The answer goes after the responses already owed, then the connection closes.
    func queueErrorAnswer(_ response: HTTPResponse) {
        slots.append(Slot(response: response, keepAlive: false, isHead: false))
        stopParsing = true
        flushReady()
    }

    // MARK: Writing

    func complete(_ seq: Int, _ response: HTTPResponse) {
        let index = seq - firstSeq
        guard !closed, index >= 0, index < slots.count, slots[index].response == nil else { return }
        slots[index].response = response
        flushReady()
        if !closed, !stopParsing { processRequests() }
    }

    /// Serializes the answers at the head of the queue that are ready, then writes.
    func flushReady() {
        while let first = slots.first, let response = first.response {
            let keepAlive = first.keepAlive && !(stopParsing && slots.count == 1)
            appendOutput { out in
                HTTPResponseSerializer.write(response, keepAlive: keepAlive, isHeadRequest: first.isHead, into: &out)
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
            if !stopParsing { appendOutput { $0.append(contentsOf: Self.continueLine) } }
        }
        guard !closed else { return }
        writeOut()
        if !closed { updateInterest() }
    }

    static let continueLine = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// Lets `build` append plaintext to the outbound stream: straight into `out`, or sealed by TLS into it.
    func appendOutput(_ build: (inout [UInt8]) -> Void) {
        guard !closed else { return }
        // Written bytes at the front are dropped once they are most of the buffer, so it never grows past
        // what is pending plus one append.
        if outIndex >= 32 * 1024, outIndex * 2 >= out.count {
            out.removeFirst(outIndex)
            outIndex = 0
        }
        if tls == nil {
            build(&out)
        } else {
            build(&listener.tlsScratch)
            sealPlaintext()
        }
    }

    /// Writes now when a good amount is pending, else once this loop iteration's events are handled, so that the
    /// parts of an answer made in one iteration leave in one system call.
    func scheduleFlush() {
        if pendingOutput >= 32 * 1024 {
            writeOut()
        } else if !flushScheduled {
            flushScheduled = true
            loop.deferFlush(self)
        }
    }

    func flushDeferred() {
        flushScheduled = false
        if !closed { writeOut() }
    }

    func writeOut() {
        var wrote = false
        while outIndex < out.count {
            let start = outIndex
            let result: IOResult
            do {
                // MSG_NOSIGNAL: a client gone mid-answer is an error to handle, never a SIGPIPE for the process.
                result = try out.withUnsafeBytes { bytes in
                    try Syscall.io("send") {
                        send(fd, bytes.baseAddress! + start, bytes.count - start, Int32(MSG_NOSIGNAL))
                    }
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
                outputProgressed(wrote: wrote)
                return
            }
            outIndex += n
            wrote = true
        }
        out.removeAll(keepingCapacity: out.capacity <= 64 * 1024)
        outIndex = 0
        if writeArmed {
            writeArmed = false
            updateInterest()
        }
        if stopParsing, slots.isEmpty, current == nil {
            // TLS: close_notify goes out before the half-close.
            if tls != nil, queueCloseNotify() {
                writeOut()
                return
            }
            startLinger()
        }
        outputProgressed(wrote: wrote)
    }

    /// After a write: tells a streaming producer when to stop or go on, parses again once the buffer drained.
    private func outputProgressed(wrote: Bool) {
        guard !closed else { return }
        let server = listener.server
        if let current {
            if current.writable, pendingOutput > server.outputHighWaterBytes {
                current.writable = false
                current.delegate?.streamWritabilityChanged(false)
            } else if !current.writable, pendingOutput <= server.outputLowWaterBytes {
                current.writable = true
                current.delegate?.streamWritabilityChanged(true)
            }
        } else if blockedByOutput, pendingOutput <= server.outputLowWaterBytes {
            blockedByOutput = false
            processRequests()
        }
        if !closed { updateTimeout(wrote: wrote) }
    }

    /// Asks epoll for what the connection waits on. Reading that is no longer wanted is only switched off once an
    /// unwanted event comes (`dropUnwantedInput`): most exchanges end before any, which saves two `epoll_ctl`
    /// calls per request.
    func updateInterest(dropUnwantedInput: Bool = false) {
        guard !closed else { return }
        let reading = EPOLLIN.rawValue | EPOLLRDHUP.rawValue
        var events: UInt32 = interest & reading
        if wantsInput {
            events = reading
        } else if dropUnwantedInput {
            events = hangupSeen ? 0 : EPOLLRDHUP.rawValue
        }
        if writeArmed { events |= EPOLLOUT.rawValue }
        guard events != interest else { return }
        interest = events
        loop.modify(fd, events: events)
    }
}
