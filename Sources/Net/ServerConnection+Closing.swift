#if canImport(Glibc)
    import Glibc
#endif

/// How a connection ends: a lingering half-close after the last answer, a graceful shutdown, or at once.
extension ServerConnection {
    /// Half-closes and drains unread input for a while, so the client reads the last answer before any reset.
    func startLinger() {
        guard !lingering, !closed else { return }
        lingering = true
        if readClosed {
            close()
            return
        }
        _ = shutdown(fd, Int32(SHUT_WR))
        updateInterest()
        updateTimeout()
    }

    /// Stops taking requests; idle connections close now, busy ones after their owed answers.
    func beginShutdown() {
        guard !closed else { return }
        stopParsing = true
        if slots.isEmpty, current == nil, pendingOutput == 0 { close() }
    }

    func close() {
        guard !closed else { return }
        if tls != nil { tlsClosing() }
        closed = true
        if let timer { loop.cancelTimer(timer) }
        timer = nil
        loop.closeDescriptor(fd)
        listener.connectionClosed(fd)
        // Told last, with the connection already gone, so whatever the delegate does cannot reach it.
        if let stream = current {
            current = nil
            stream.closedEarly = true
            let delegate = stream.delegate
            stream.delegate = nil
            delegate?.streamClosed()
        }
    }
}
