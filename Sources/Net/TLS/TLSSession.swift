import COpenSSL

/// One TLS connection over two memory buffers, server or client side; the caller owns the socket.
///
/// Bytes read from the socket go in with `feedCiphertext`; bytes to write come out of
/// `takeCiphertextToSend`. Nothing here blocks or touches a descriptor, so an event loop drives it:
/// feed, `advanceHandshake()` or `readPlaintext`, then send whatever ciphertext is pending (also after a
/// failure: it may hold the alert that tells the client why). Not thread-safe: one loop thread owns it.
public final class TLSSession {
    /// Where the session stands.
    public enum State: Equatable, Sendable {
        /// More ciphertext from the peer is needed to finish the handshake.
        case handshaking
        /// Handshake done: plaintext flows both ways.
        case established
        /// The peer sent close_notify, or `shutdown()` was called.
        case closed
        /// The handshake or a record failed; `reason` is OpenSSL's fixed text, e.g. `no shared cipher`.
        case failed(reason: String)
    }

    /// Current state; starts at `.handshaking`.
    public private(set) var state = State.handshaking
    /// The verified client certificate; nil without one or when verification did not succeed.
    public private(set) var peerCertificate: TLSPeerCertificate?
    /// Negotiated protocol version, `TLSv1.2` or `TLSv1.3`, once established.
    public private(set) var protocolVersion: String?
    /// Negotiated cipher in OpenSSL's naming, e.g. `TLS_AES_256_GCM_SHA384`, once established.
    public private(set) var cipher: String?
    /// The ALPN protocol agreed (`http/1.1`), or nil when the client offered none.
    public private(set) var applicationProtocol: String?
    /// The host name the client sent in SNI, if any. The one configured certificate is served regardless.
    public private(set) var serverName: String?

    private let ssl: OpaquePointer
    private let readBIO: OpaquePointer
    private let writeBIO: OpaquePointer
    /// Keeps the context this session was made with alive across a reload.
    private let context: AnyObject
    /// Whether this end connects (client) rather than accepts.
    let isClient: Bool

    /// A server session on `context`.
    convenience init(context: SSLContextHandle) throws(TLSError) {
        try self.init(sslContext: context.pointer, keeping: context, connectingTo: nil)
    }

    /// A session on the OpenSSL context `sslContext`, which `owner` keeps alive.
    /// - Parameter host: nil accepts (server); a name or IP literal connects (client), sends it as SNI when
    ///   it is a name, and requires the server's certificate to match it.
    init(sslContext: OpaquePointer, keeping owner: AnyObject, connectingTo host: String?) throws(TLSError) {
        guard let ssl = SSL_new(sslContext) else {
            throw TLSError(.openSSLFailure, "TLS: SSL_new failed (\(TLSError.drainOpenSSLReason()))")
        }
        guard let readBIO = BIO_new(BIO_s_mem()), let writeBIO = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSError(.openSSLFailure, "TLS: BIO_new failed (\(TLSError.drainOpenSSLReason()))")
        }
        // The SSL object owns both buffers from here on and frees them with itself.
        SSL_set_bio(ssl, readBIO, writeBIO)
        self.ssl = ssl
        self.readBIO = readBIO
        self.writeBIO = writeBIO
        self.context = owner
        self.isClient = host != nil
        guard let host else {
            SSL_set_accept_state(ssl)
            return
        }
        try Self.expectPeer(host, on: ssl)
        SSL_set_connect_state(ssl)
    }

    deinit { SSL_free(ssl) }

    // MARK: Ciphertext in and out

    /// Queues bytes read from the socket. Call `advanceHandshake()` or `readPlaintext` afterwards.
    public func feedCiphertext(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            let chunk = Int32(min(bytes.count - offset, Int(Int32.max)))
            let written = BIO_write(readBIO, bytes.baseAddress! + offset, chunk)
            guard written > 0 else {
                state = .failed(reason: "buffer write failed")
                return
            }
            offset += Int(written)
        }
    }

    /// Queues bytes read from the socket.
    public func feedCiphertext(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { feedCiphertext($0) }
    }

    /// Whether ciphertext (handshake messages, records, alerts) waits to be written to the socket.
    public var hasCiphertextToSend: Bool { BIO_ctrl_pending(writeBIO) > 0 }

    /// Appends the ciphertext waiting to be written to `out` and empties the buffer.
    public func takeCiphertextToSend(into out: inout [UInt8]) {
        let pending = Int(BIO_ctrl_pending(writeBIO))
        guard pending > 0 else { return }
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: pending))
        let read = out.withUnsafeMutableBytes { BIO_read(writeBIO, $0.baseAddress! + start, Int32(pending)) }
        out.removeLast(pending - max(0, Int(read)))
    }

    /// The ciphertext waiting to be written to the socket; the buffer is empty afterwards.
    public func takeCiphertextToSend() -> [UInt8] {
        var out: [UInt8] = []
        takeCiphertextToSend(into: &out)
        return out
    }

    // MARK: Handshake

    /// Moves the handshake on with the ciphertext fed so far.
    /// - Returns: the new state: still `.handshaking` when more input is needed.
    @discardableResult
    public func advanceHandshake() -> State {
        guard state == .handshaking else { return state }
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            state = .established
            recordNegotiation()
            return state
        }
        let error = SSL_get_error(ssl, result)
        if error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE { return state }
        state = .failed(reason: failureReason(error))
        return state
    }

    private func recordNegotiation() {
        protocolVersion = String(cString: SSL_get_version(ssl))
        if let current = SSL_get_current_cipher(ssl), let name = SSL_CIPHER_get_name(current) {
            cipher = String(cString: name)
        }
        var alpn: UnsafePointer<UInt8>?
        var alpnLength: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &alpn, &alpnLength)
        if let alpn, alpnLength > 0 {
            let bytes = UnsafeBufferPointer(start: alpn, count: Int(alpnLength))
            applicationProtocol = String(decoding: bytes, as: UTF8.self)
        }
        if let name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) { serverName = String(cString: name) }
        // Only a chain that verified yields an identity; optional mode lets a client without one through.
        if SSL_get_verify_result(ssl) == X509_V_OK, let certificate = SSL_get0_peer_certificate(ssl) {
            peerCertificate = TLSPeerCertificate(certificate: certificate)
        }
    }

    private func failureReason(_ error: Int32) -> String {
        // A client names why the server's certificate was refused (expired, unknown CA, wrong host).
        let verify = SSL_get_verify_result(ssl)
        if isClient, verify != X509_V_OK, let text = X509_verify_cert_error_string(verify) {
            ERR_clear_error()
            return "certificate verify failed: \(String(cString: text))"
        }
        switch error {
        case SSL_ERROR_ZERO_RETURN: return "closed by peer"
        case SSL_ERROR_SYSCALL: return "unexpected end of stream"
        default: return TLSError.drainOpenSSLReason()
        }
    }

    // MARK: Plaintext

    /// Decrypts what has been fed and appends the plaintext to `buffer`, at most `maxBytes` at a time.
    ///
    /// Finishes the handshake first if needed. Call again after feeding more ciphertext.
    /// - Parameters:
    ///   - buffer: plaintext is appended here.
    ///   - maxBytes: upper bound on bytes appended by this call; default 64 KiB.
    /// - Returns: the state afterwards; `.closed` once close_notify arrived.
    @discardableResult
    public func readPlaintext(into buffer: inout [UInt8], maxBytes: Int = 64 * 1024) -> State {
        if state == .handshaking, advanceHandshake() != .established { return state }
        guard state == .established else { return state }
        var appended = 0
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while appended < maxBytes {
            ERR_clear_error()
            let want = Int32(min(chunk.count, maxBytes - appended))
            let result = chunk.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, want) }
            if result > 0 {
                buffer.append(contentsOf: chunk[..<Int(result)])
                appended += Int(result)
                continue
            }
            let error = SSL_get_error(ssl, result)
            switch error {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return state
            case SSL_ERROR_ZERO_RETURN: state = .closed
            default: state = .failed(reason: failureReason(error))
            }
            return state
        }
        return state
    }

    /// Encrypts `bytes`; the records then wait in `takeCiphertextToSend`.
    /// - Throws: `TLSError` when the session is not established.
    public func writePlaintext(_ bytes: UnsafeRawBufferPointer) throws(TLSError) {
        guard state == .established else {
            throw TLSError(.sessionFailed, "TLS: cannot write in state \(state)")
        }
        var offset = 0
        while offset < bytes.count {
            ERR_clear_error()
            let chunk = Int32(min(bytes.count - offset, 1 << 20))
            let result = SSL_write(ssl, bytes.baseAddress! + offset, chunk)
            guard result > 0 else {
                let reason = failureReason(SSL_get_error(ssl, result))
                state = .failed(reason: reason)
                throw TLSError(.sessionFailed, "TLS: write failed (\(reason))")
            }
            offset += Int(result)
        }
    }

    /// Encrypts `bytes`; the records then wait in `takeCiphertextToSend`.
    /// - Throws: `TLSError` when the session is not established.
    public func writePlaintext(_ bytes: [UInt8]) throws(TLSError) {
        var failure: TLSError?
        bytes.withUnsafeBytes { buffer in
            do throws(TLSError) { try writePlaintext(buffer) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Queues close_notify for the peer; send the pending ciphertext, then close the socket.
    public func shutdown() {
        guard state == .established || state == .closed else { return }
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
        state = .closed
    }
}
