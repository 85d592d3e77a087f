import CEpoll
import HTTPCodec

#if canImport(Glibc)
    import Glibc
#endif

/// TLS between the socket and the parser: ciphertext in, plaintext to the parser; answers sealed into `out`.
///
/// Each socket read (at most 64 KiB of ciphertext) is fed once and its plaintext drained at once, 64 KiB per
/// call, into the listener's scratch buffer and on to the parser, so nothing piles up inside OpenSSL.
extension ServerConnection {
    /// Feeds `count` bytes of `listener.readBuffer` to the session, moves the handshake on, parses plaintext.
    func tlsReceived(_ count: Int) {
        guard let tls else { return }
        listener.readBuffer.withUnsafeBytes { tls.feedCiphertext(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        if tls.state == .handshaking {
            switch tls.advanceHandshake() {
            case .handshaking:
                // The server's handshake flight, if this read completed a client message.
                sendPendingCiphertext()
                return
            case .established:
                info.clientCertificateSubject = tls.peerCertificate?.subject
                info.clientCertificateFingerprint = tls.peerCertificate?.sha256Fingerprint
            case .closed, .failed:
                handshakeFailed()
                return
            }
        }
        let chunk = 64 * 1024
        var state = TLSSession.State.established
        repeat {
            listener.tlsScratch.removeAll(keepingCapacity: true)
            state = tls.readPlaintext(into: &listener.tlsScratch, maxBytes: chunk)
            if !listener.tlsScratch.isEmpty { listener.tlsScratch.withUnsafeBytes { parser.feed($0) } }
        } while state == .established && listener.tlsScratch.count == chunk
        listener.tlsScratch.removeAll(keepingCapacity: listener.tlsScratch.capacity <= chunk)
        sendPendingCiphertext()
        guard !closed else { return }
        guard state == .established else {
            // close_notify or a bad record: the stream cannot carry answers any more.
            close()
            return
        }
        inputArrived()
    }

    /// Encrypts the serialized answers waiting in `listener.tlsScratch` into `out`; closes on failure.
    func sealPlaintext() {
        guard let tls, !listener.tlsScratch.isEmpty else { return }
        defer { listener.tlsScratch.removeAll(keepingCapacity: listener.tlsScratch.capacity <= 64 * 1024) }
        do {
            try tls.writePlaintext(listener.tlsScratch)
        } catch {
            close()
            return
        }
        tls.takeCiphertextToSend(into: &out)
    }

    /// Queues close_notify once, after the last answer; true when there is ciphertext to write for it.
    func queueCloseNotify() -> Bool {
        guard let tls, !closeNotifySent, tls.state == .established else { return false }
        closeNotifySent = true
        tls.shutdown()
        tls.takeCiphertextToSend(into: &out)
        return outIndex < out.count
    }

    /// Moves handshake replies (or records OpenSSL wrote on its own) to `out` and writes them.
    private func sendPendingCiphertext() {
        guard let tls, !closed, tls.hasCiphertextToSend else { return }
        tls.takeCiphertextToSend(into: &out)
        writeOut()
    }

    /// Counts the failure, sends the alert OpenSSL queued, then half-closes and lingers like any last answer.
    private func handshakeFailed() {
        listener.server.handshakesFailed.add(1, ordering: .relaxed)
        stopParsing = true
        closeNotifySent = true
        guard let tls else { return }
        tls.takeCiphertextToSend(into: &out)
        writeOut()
    }

    /// Called by `close()` just before the descriptor goes: counts a handshake cut short (timeout, the client
    /// leaving) and, on an established session with nothing half-written, tries one close_notify write.
    func tlsClosing() {
        guard let tls else { return }
        if tls.state == .handshaking, !listener.server.isShuttingDown.load(ordering: .relaxed) {
            listener.server.handshakesFailed.add(1, ordering: .relaxed)
        }
        guard !closeNotifySent, tls.state == .established, outIndex == out.count, !readClosed else { return }
        closeNotifySent = true
        tls.shutdown()
        let alert = tls.takeCiphertextToSend()
        guard !alert.isEmpty else { return }
        // Best effort: the connection closes whether or not the socket takes it.
        _ = alert.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
}
