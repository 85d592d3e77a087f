import COpenSSL

#if canImport(Glibc)
    import Glibc
#endif

/// TLS 1.2+ client over a blocking socket, for `BlockingHTTPFetch`: the chain must verify against the CA
/// bundle (or the system's store) and the certificate must name the host (or IP address) that was asked for.
final class TLSFetchChannel: FetchChannel {
    private let context: OpaquePointer
    private let ssl: OpaquePointer
    private let fd: Int32
    private let host: String
    private let deadline: UInt64

    init(
        fd: Int32, target: BlockingHTTPFetch.Target, caPath: String?, deadline: UInt64
    ) throws(BlockingHTTPFetch.Failure) {
        self.fd = fd
        host = target.host
        self.deadline = deadline
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw .init("\(target.host): SSL_CTX_new failed") }
        // The context is set up whole before the session is made from it: SSL_new copies its verify mode.
        do {
            try Self.configure(context, host: target.host, caPath: caPath)
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        guard let ssl = SSL_new(context) else {
            SSL_CTX_free(context)
            throw .init("\(target.host): SSL_new failed")
        }
        self.context = context
        self.ssl = ssl
        try configureSession()
        try handshake()
    }

    deinit {
        SSL_free(ssl)
        SSL_CTX_free(context)
    }

    private static func configure(
        _ context: OpaquePointer, host: String, caPath: String?
    ) throws(BlockingHTTPFetch.Failure) {
        guard portal_SSL_CTX_set_proto_versions(context, TLS1_2_VERSION, TLS1_3_VERSION) == 1 else {
            throw .init("\(host): cannot set TLS versions")
        }
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        let trusted =
            caPath.map { SSL_CTX_load_verify_locations(context, $0, nil) == 1 }
            ?? (SSL_CTX_set_default_verify_paths(context) == 1)
        guard trusted else { throw .init("JWKS_CA_PATH: cannot load the CA bundle") }
    }

    private func configureSession() throws(BlockingHTTPFetch.Failure) {
        SSL_set_verify(ssl, SSL_VERIFY_PEER, nil)
        guard SSL_set_fd(ssl, fd) == 1 else { throw .init("\(host): SSL_set_fd failed") }
        // The certificate must name what was asked for: an IP address as an IP SAN, a name as a DNS SAN.
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1 {
            guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1 else {
                throw .init("\(host): cannot set the expected IP address")
            }
        } else {
            guard SSL_set1_host(ssl, host) == 1, portal_SSL_set_tlsext_host_name(ssl, host) == 1 else {
                throw .init("\(host): cannot set the expected host name")
            }
        }
    }

    private func handshake() throws(BlockingHTTPFetch.Failure) {
        guard BlockingHTTPFetch.armTimeouts(fd, deadline: deadline) else { throw .init("\(host): timed out") }
        // Verification failures end the handshake; the result is checked again so no path can skip it.
        guard SSL_connect(ssl) == 1, SSL_get_verify_result(ssl) == X509_V_OK, SSL_get0_peer_certificate(ssl) != nil
        else {
            let verify = SSL_get_verify_result(ssl)
            let reason =
                verify != X509_V_OK
                ? String(cString: X509_verify_cert_error_string(verify)) : TLSError.drainOpenSSLReason()
            ERR_clear_error()
            throw .init("\(host): TLS handshake failed (\(reason))")
        }
    }

    func write(_ bytes: [UInt8]) throws(BlockingHTTPFetch.Failure) {
        var offset = 0
        while offset < bytes.count {
            guard BlockingHTTPFetch.armTimeouts(fd, deadline: deadline) else { throw .init("\(host): timed out") }
            let n = bytes.withUnsafeBytes { SSL_write(ssl, $0.baseAddress! + offset, Int32($0.count - offset)) }
            guard n > 0 else { throw .init("\(host): TLS write failed or timed out") }
            offset += Int(n)
        }
    }

    func read(into buffer: inout [UInt8]) throws(BlockingHTTPFetch.Failure) -> Int {
        guard BlockingHTTPFetch.armTimeouts(fd, deadline: deadline) else { throw .init("\(host): timed out") }
        let n = buffer.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
        if n > 0 { return Int(n) }
        let error = SSL_get_error(ssl, n)
        ERR_clear_error()
        // A close without close_notify ends the stream too; the parser then decides whether the answer is whole.
        if error == SSL_ERROR_ZERO_RETURN || (error == SSL_ERROR_SYSCALL && errno == 0) { return 0 }
        throw .init("\(host): TLS read failed or timed out")
    }
}
