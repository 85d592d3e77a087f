import HTTPCodec

extension ServerConnection {
    /// Chooses the timeout that applies now: TLS handshake, head, idle, body progress, linger, or none while
    /// the handler works.
    ///
    /// While a body is read, each read moves the progress deadline, but never past the body's total deadline,
    /// which is set once, when the body of a request is first waited for.
    func updateTimeout(progress: Bool) {
        let timeouts = listener.server.timeouts
        let now: Waiting
        if lingering {
            now = .linger
        } else if let tls, tls.state == .handshaking {
            now = .handshake
        } else if !slots.isEmpty || outIndex < out.count {
            now = .nothing
        } else {
            switch parser.phase {
            case .idle: now = firstSeq == 0 ? .firstHead : .idle
            case .head: now = waiting == .firstHead ? .firstHead : .head
            case .body: now = .body
            }
        }
        guard now != waiting || (now == .body && progress) else { return }
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
        case .linger: length = timeouts.lingerNanoseconds
        }
        let clock = EventLoop.now()
        deadline = clock &+ length
        if now == .body {
            // No response is owed while a body is read, so `firstSeq` is the request whose body this is.
            if bodyDeadlineSeq != firstSeq {
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
        case .nothing:
            return
        case .idle, .linger, .handshake:
            // A handshake cut short here is counted by `close()`; no HTTP answer is possible before it.
            close()
        case .firstHead where parser.bufferedByteCount == 0:
            close()
        case .firstHead, .head, .body:
            // A client too slow to finish its request gets 408, then the connection closes.
            stopParsing = true
            waiting = .nothing
            deadline = 0
            let body = Array(#"{"error":{"code":"E9316","message":"request timeout"}}"#.utf8)
            slots.append(
                Slot(
                    response: listener.server.withErrorHeaders(.json(status: 408, body: body)), keepAlive: false,
                    isHead: false))
            flushReady()
        }
    }
}
