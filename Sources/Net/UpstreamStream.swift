import HTTPCodec

/// What an `UpstreamStream` tells its owner, on the stream's loop thread.
public protocol UpstreamStreamDelegate: AnyObject {
    /// The response head arrived (interim 1xx answers are skipped).
    func upstreamReceivedHead(_ head: HTTPResponseHead)
    /// Response body bytes, de-chunked; valid during the call only.
    func upstreamReceivedBody(_ bytes: UnsafeRawBufferPointer)
    /// The response is complete. The request body may not be (the upstream answered early): nothing more of it
    /// is sent.
    func upstreamEnded()
    /// The exchange failed, before the head (answer 502/504) or after it (the body cannot be completed).
    func upstreamFailed(_ error: UpstreamError)
    /// The request body buffer crossed its high-water mark (false) or drained below its low-water mark (true).
    func upstreamWritabilityChanged(_ writable: Bool)
}

/// One request streamed to an upstream and its response streamed back. Loop thread only.
///
/// The request body is written as it arrives (`writeBody`, `endBody`); the response comes to the delegate as
/// it arrives, and stops being read while paused (`pauseResponse`). The timeout counts only time spent waiting
/// on the upstream (connecting, a full send buffer, no response byte), never time spent waiting on the
/// client, and every byte moved either way starts it again. The connection goes back to the pool only after
/// the whole request was sent and the whole response read; a cancelled stream's connection is closed.
public final class UpstreamStream {
    static let highWaterBytes = 128 * 1024
    static let lowWaterBytes = 32 * 1024

    let method: String
    let idempotent: Bool
    let address: UpstreamAddress
    let loop: EventLoop
    let timeoutNanoseconds: UInt64
    var delegate: (any UpstreamStreamDelegate)?
    var connection: UpstreamConnection?
    /// The serialized head, resent whole on a retry.
    let head: [UInt8]
    var headSent = 0
    /// Framed body bytes not yet sent; `bodyIndex` is where sending stands.
    var body: [UInt8] = []
    var bodyIndex = 0
    let chunked: Bool
    var bodyEnded = false
    /// A body byte reached a socket: the exchange can no longer be replayed on another connection.
    var bodySentToSocket = false
    /// Sending failed after the upstream began to answer: the rest of the request is dropped, the answer read.
    var sendBroken = false
    var headReceived = false
    var responsePaused = false
    var writable = true
    var retried = false
    var done = false
    var timer: TimerID?
    var lastProgress: UInt64 = 0

    init(
        head: [UInt8], method: String, bodyLength: HTTPBodyLength, address: UpstreamAddress, loop: EventLoop,
        timeoutNanoseconds: UInt64, delegate: any UpstreamStreamDelegate
    ) {
        self.head = head
        self.method = method
        self.idempotent = ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"].contains(method)
        self.chunked = bodyLength == .unknown
        self.bodyEnded = bodyLength == .none
        self.address = address
        self.loop = loop
        self.timeoutNanoseconds = timeoutNanoseconds
        self.delegate = delegate
    }

    /// Whether the request body buffer is below its high-water mark.
    public var isWritable: Bool { writable }

    /// Whether everything of the request, body included, has gone to the socket.
    var requestSent: Bool { !sendBroken && headSent == head.count && bodyEnded && bodyIndex == body.count }

    /// Sends request body bytes (copied before the call returns); chunk-framed when the length is unknown.
    public func writeBody(_ bytes: UnsafeRawBufferPointer) {
        loop.assertInEventLoop()
        guard !done, !bodyEnded, !sendBroken, !bytes.isEmpty else { return }
        // Sent bytes at the front are dropped once they are most of the buffer.
        if bodyIndex >= 32 * 1024, bodyIndex * 2 >= body.count {
            body.removeFirst(bodyIndex)
            bodyIndex = 0
        }
        if chunked { HTTPResponseSerializer.appendChunk(bytes, to: &body) } else { body.append(contentsOf: bytes) }
        connection?.scheduleWrite()
        updateWritability()
    }

    /// Ends the request body.
    public func endBody() {
        loop.assertInEventLoop()
        guard !done, !bodyEnded else { return }
        bodyEnded = true
        if chunked { body.append(contentsOf: HTTPResponseSerializer.lastChunk) }
        connection?.scheduleWrite()
    }

    /// Stops reading the response until `resumeResponse()`: the client cannot take more yet.
    public func pauseResponse() {
        loop.assertInEventLoop()
        guard !done, !responsePaused else { return }
        responsePaused = true
        connection?.updateInterest()
    }

    /// Reads the response again after `pauseResponse()`.
    public func resumeResponse() {
        loop.assertInEventLoop()
        guard !done, responsePaused else { return }
        responsePaused = false
        lastProgress = EventLoop.now()
        connection?.updateInterest()
    }

    /// Gives up (the client left): the connection is closed, never pooled, and the delegate hears nothing more.
    public func cancel() {
        loop.assertInEventLoop()
        guard !done else { return }
        let connection = self.connection
        end()
        connection?.close()
    }

    /// Tells the delegate when the body buffer crosses its marks.
    func updateWritability() {
        let pending = body.count - bodyIndex
        if writable, pending > Self.highWaterBytes {
            writable = false
            delegate?.upstreamWritabilityChanged(false)
        } else if !writable, pending <= Self.lowWaterBytes {
            writable = true
            delegate?.upstreamWritabilityChanged(true)
        }
    }

    /// Whether the exchange waits on the client now (paused response, or a body not yet come), not the upstream.
    var waitingOnClient: Bool {
        if responsePaused { return true }
        return headSent == head.count && !bodyEnded && bodyIndex == body.count && !headReceived
    }

    func progressed() { lastProgress = EventLoop.now() }

    /// Starts the timeout; it re-arms itself while there was progress or the exchange waits on the client.
    func armTimer(after nanoseconds: UInt64) {
        timer = loop.scheduleTimer(afterNanoseconds: nanoseconds) { [self] in
            timer = nil
            guard !done else { return }
            let now = EventLoop.now()
            if waitingOnClient { lastProgress = now }
            let due = lastProgress &+ timeoutNanoseconds
            if now < due {
                armTimer(after: due - now)
                return
            }
            let connection = self.connection
            fail(UpstreamError(.timeout))
            connection?.close()
        }
    }

    /// Ends the exchange and tells the delegate the error (once).
    func fail(_ error: UpstreamError) {
        guard !done else { return }
        let delegate = self.delegate
        end()
        delegate?.upstreamFailed(error)
    }

    /// Marks the exchange finished and drops its references; the delegate is told by the caller.
    func end() {
        done = true
        if let timer { loop.cancelTimer(timer) }
        timer = nil
        connection?.exchange = nil
        connection = nil
        delegate = nil
    }
}
