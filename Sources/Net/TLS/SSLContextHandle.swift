import COpenSSL

#if canImport(Glibc)
    import Glibc
#endif

/// One configured OpenSSL `SSL_CTX`, built whole and never changed after `init`.
///
/// `@unchecked Sendable`: the context is immutable once built and OpenSSL makes `SSL_new` on a shared
/// `SSL_CTX` thread-safe (reference counted), so sessions keep the context alive after a reload replaces it.
final class SSLContextHandle: @unchecked Sendable {
    let pointer: OpaquePointer

    /// Loads and checks the certificate chain, key and client CAs named by `configuration`.
    init(_ configuration: TLSConfiguration) throws(TLSError) {
        ERR_clear_error()
        guard let ctx = SSL_CTX_new(TLS_server_method()) else {
            throw TLSError(.openSSLFailure, "TLS: SSL_CTX_new failed (\(TLSError.drainOpenSSLReason()))")
        }
        pointer = ctx
        try applyPolicy()
        try loadCertificate(configuration.certificateChainPath)
        try loadKey(configuration.privateKeyPath)
        try applyClientAuthentication(configuration)
    }

    deinit { SSL_CTX_free(pointer) }

    // MARK: Protocol policy

    private func applyPolicy() throws(TLSError) {
        _ = SSL_CTX_set_options(pointer, portal_SSL_hardening_options())
        // No tickets and no cache: nothing resumes, so a reloaded key never meets an old session.
        _ = SSL_CTX_set_num_tickets(pointer, 0)
        _ = portal_SSL_CTX_disable_session_cache(pointer)
        let context: [UInt8] = Array("story-portal".utf8)
        let steps: [(StaticString, Bool)] = [
            ("protocol versions", portal_SSL_CTX_set_proto_versions(pointer, TLS1_2_VERSION, TLS1_3_VERSION) == 1),
            ("TLS 1.2 ciphers", SSL_CTX_set_cipher_list(pointer, TLSConfiguration.tls12Ciphers) == 1),
            ("TLS 1.3 suites", SSL_CTX_set_ciphersuites(pointer, TLSConfiguration.tls13Suites) == 1),
            ("groups", portal_SSL_CTX_set1_groups_list(pointer, TLSConfiguration.groups) == 1),
            ("session id context", SSL_CTX_set_session_id_context(pointer, context, UInt32(context.count)) == 1),
        ]
        for (name, ok) in steps where !ok {
            throw TLSError(.openSSLFailure, "TLS: cannot set \(name) (\(TLSError.drainOpenSSLReason()))")
        }
        SSL_CTX_set_alpn_select_cb(
            pointer,
            { _, out, outLength, offered, offeredLength, _ in
                ALPN.select(out: out, outLength: outLength, offered: offered, offeredLength: offeredLength)
            }, nil)
    }

    // MARK: Certificate and key

    private func loadCertificate(_ path: String) throws(TLSError) {
        let pem = try Self.readFile(path, setting: "TLS_CERT_PATH")
        // Parse first so that a file of the wrong kind gets its own message.
        let parsed = pem.withUnsafeBytes { bytes -> Bool in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else { return false }
            defer { BIO_free(bio) }
            guard let cert = PEM_read_bio_X509(bio, nil, nil, nil) else { return false }
            X509_free(cert)
            return true
        }
        guard parsed else {
            ERR_clear_error()
            throw TLSError(.notPEM, "TLS_CERT_PATH: \(path) holds no PEM certificate")
        }
        guard SSL_CTX_use_certificate_chain_file(pointer, path) == 1 else {
            throw TLSError(.notPEM, "TLS_CERT_PATH: \(path): \(TLSError.drainOpenSSLReason())")
        }
    }

    private func loadKey(_ path: String) throws(TLSError) {
        var pem = try Self.readFile(path, setting: "TLS_KEY_PATH")
        defer { pem.withUnsafeMutableBytes { if let base = $0.baseAddress { _ = memset(base, 0, $0.count) } } }
        let key = pem.withUnsafeBytes { bytes -> OpaquePointer? in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let key else {
            ERR_clear_error()
            throw TLSError(.notPEM, "TLS_KEY_PATH: \(path) holds no PEM private key (or it is encrypted)")
        }
        defer { EVP_PKEY_free(key) }
        guard SSL_CTX_use_PrivateKey(pointer, key) == 1, SSL_CTX_check_private_key(pointer) == 1 else {
            ERR_clear_error()
            throw TLSError(.keyMismatch, "TLS_KEY_PATH: \(path) does not match the certificate in TLS_CERT_PATH")
        }
    }

    // MARK: Client certificates

    private func applyClientAuthentication(_ configuration: TLSConfiguration) throws(TLSError) {
        guard configuration.clientAuthentication != .none else { return }
        guard let path = configuration.clientCAPath, !path.isEmpty else {
            throw TLSError(
                .clientCAMissing, "TLS_CLIENT_CA_PATH: required when TLS_CLIENT_AUTH is optional or required")
        }
        _ = try Self.readFile(path, setting: "TLS_CLIENT_CA_PATH")
        guard SSL_CTX_load_verify_locations(pointer, path, nil) == 1, let names = SSL_load_client_CA_file(path) else {
            ERR_clear_error()
            throw TLSError(.notPEM, "TLS_CLIENT_CA_PATH: \(path) holds no PEM CA certificate")
        }
        SSL_CTX_set_client_CA_list(pointer, names)
        var mode = SSL_VERIFY_PEER
        if configuration.clientAuthentication == .required { mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT }
        SSL_CTX_set_verify(pointer, mode, nil)
        SSL_CTX_set_verify_depth(pointer, 4)
    }

    // MARK: Files

    /// The file's bytes, or an error naming the setting and the system's reason; at most 1 MiB.
    static func readFile(_ path: String, setting: String) throws(TLSError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw TLSError(.unreadable, "\(setting): cannot read \(path) (\(String(cString: strerror(errno))))")
        }
        defer { _ = Glibc.close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while bytes.count <= 1 << 20 {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else {
                throw TLSError(.unreadable, "\(setting): cannot read \(path) (\(String(cString: strerror(errno))))")
            }
            if n == 0 { return bytes }
            bytes.append(contentsOf: chunk[..<n])
        }
        throw TLSError(.notPEM, "\(setting): \(path) is larger than 1 MiB")
    }
}
