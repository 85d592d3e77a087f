import HTTPCodec

extension ServerConnection {
    /// Chooses the timeout that applies now: TLS handshake, head, idle, body progress, write progress, linger,
    /// or none while the handler works.
    ///
    /// While a body is read, each read moves the progress deadline, but never past the body's total deadline,
    /// which is set once, when the body of a request is first waited for (a streamed body earns one more
    /// second of it per `streamedBodyMinBytesPerSecond` received). While answers wait for the client, each
    /// write that makes progress moves the write deadline.
    func updateTimeout(read: Bool = false, wrote: Bool = false) {
        let timeouts = listener.server.timeouts
        let now: Waiting
        if lingering {
            now = .linger
        } else if let tls, tls.state == .handshaking {
            now = .handshake
        } else if pendingOutput > 0 {
            now = .write
        } else if !slots.isEmpty {
            now = .nothing
        } else if let current {
            now = current.readingBody ? .body : .nothing
        } else {
            switch parser.phase {
            case .idle: now = firstSeq == 0 ? .firstHead : .idle
            case .head: now = waiting == .firstHead ? .firstHead : .head
            case .body: now = .body
            }
        }
        guard now != waiting || (now == .body && read) || (now == .write && wrote) else { return }
        waiting = now
        let length: UInt64
        switch now {
        case .nothing:
            deadline = 0
            return
        case .handshake: length = timeouts.handshakeNanoseconds
        case .firstHead, .head: length = timeouts.headNanoseconds
        case .idle: length = timeouts.idleNanoseconds
        case .body: length = timeouts.bodyProgressNanoseconds
        case .write: length = timeouts.writeNanoseconds
        case .linger: length = timeouts.lingerNanoseconds
        }
        let clock = EventLoop.now()
        deadline = clock &+ length
        if now == .body {
            if let current {
                if current.bodyStartNanoseconds == 0 { current.bodyStartNanoseconds = clock }
                let earned = UInt64(current.bodyBytes) / max(1, timeouts.streamedBodyMinBytesPerSecond)
                bodyDeadline = current.bodyStartNanoseconds &+ timeouts.bodyTotalNanoseconds &+ earned * 1_000_000_000
            } else if bodyDeadlineSeq != firstSeq {
                // No response is owed while a body is read, so `firstSeq` is the request whose body this is.
                bodyDeadlineSeq = firstSeq
                bodyDeadline = clock &+ timeouts.bodyTotalNanoseconds
            }
            deadline = min(deadline, bodyDeadline)
        }
        armTimer()
    }

    /// Keeps one timer per connection: moving a deadline later costs nothing, the timer re-arms when it fires.
    private func armTimer() {
        if let timer {
            if timerAt <= deadline { return }
            loop.cancelTimer(timer)
        }
        timerAt = deadline
        timer = loop.scheduleTimer(afterNanoseconds: deadline &- min(deadline, EventLoop.now())) { [self] in
            self.timer = nil
            self.timerFired()
        }
    }

    private func timerFired() {
        guard !closed, deadline != 0 else { return }
        guard EventLoop.now() >= deadline else {
            armTimer()
            return
        }
        switch waiting {
        case .nothing, .idle, .linger:
            break
        case .handshake: reportTimeout(.handshake)
        case .firstHead, .head: reportTimeout(.head)
        case .body: reportTimeout(.body)
        case .write: reportTimeout(.write)
        }
        switch waiting {
        case .nothing:
            return
        case .idle, .linger, .handshake, .write:
            // A handshake cut short here is counted by `close()`; no HTTP answer is possible before it, nor to a
            // client that takes no bytes.
            close()
        case .body where current != nil:
            // The handler lets go of the stream; a client with no byte of an answer yet is told 408 first.
            waiting = .nothing
            deadline = 0
            if let current { refuseBody(current, listener.server.withErrorHeaders(Self.requestTimeout)) }
        case .firstHead where parser.bufferedByteCount == 0:
            close()
        case .firstHead, .head, .body:
            // A client too slow to finish its request gets 408, then the connection closes.
            waiting = .nothing
            deadline = 0
            queueErrorAnswer(listener.server.withErrorHeaders(Self.requestTimeout))
        }
    }

    static var requestTimeout: HTTPResponse {
        .json(status: 408, body: Array(#"{"error":{"code":"E9316","message":"request timeout"}}"#.utf8))
    }

    private func reportTimeout(_ kind: ConnectionTimeout) {
        listener.server.timedOut.add(1, ordering: .relaxed)
        listener.server.onConnectionTimedOut(kind)
    }
}
