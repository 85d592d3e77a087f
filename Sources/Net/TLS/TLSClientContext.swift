import COpenSSL

/// A TLS client context: which CAs to trust for servers we connect to, and our own certificate if the server
/// asks for one. Shared by every connection made with it.
///
/// Policy: TLS 1.2 and 1.3 only, the same AEAD suites as the listener, peer verification always on (a
/// certificate must chain to a trusted CA and name the host connected to), no compression or renegotiation.
///
/// `@unchecked Sendable`: the `SSL_CTX` is fully configured in `init` and never changed afterwards; OpenSSL
/// allows `SSL_new` on one context from many threads.
public final class TLSClientContext: @unchecked Sendable {
    let pointer: OpaquePointer

    /// - Parameters:
    ///   - caPath: PEM bundle of the CAs to trust; nil trusts the system's store (`/etc/ssl/certs`).
    ///   - certificateChainPath: PEM chain to present when the server asks for a client certificate.
    ///   - privateKeyPath: PEM key of that chain; required with it.
    ///   - setting: the setting named in errors, e.g. `REDIS_TLS_CA_PATH`.
    /// - Throws: `TLSError` in one line naming `setting` when a file is unreadable or not PEM.
    public init(
        caPath: String?, certificateChainPath: String? = nil, privateKeyPath: String? = nil, setting: String
    ) throws(TLSError) {
        ERR_clear_error()
        guard let ctx = SSL_CTX_new(TLS_client_method()) else {
            throw TLSError(.openSSLFailure, "TLS: SSL_CTX_new failed (\(TLSError.drainOpenSSLReason()))")
        }
        pointer = ctx
        _ = SSL_CTX_set_options(ctx, portal_SSL_hardening_options())
        guard portal_SSL_CTX_set_proto_versions(ctx, TLS1_2_VERSION, TLS1_3_VERSION) == 1,
            SSL_CTX_set_cipher_list(ctx, TLSConfiguration.tls12Ciphers) == 1,
            SSL_CTX_set_ciphersuites(ctx, TLSConfiguration.tls13Suites) == 1
        else {
            throw TLSError(.openSSLFailure, "TLS: cannot set the client policy (\(TLSError.drainOpenSSLReason()))")
        }
        if let caPath {
            _ = try SSLContextHandle.readFile(caPath, setting: setting)
            guard SSL_CTX_load_verify_locations(ctx, caPath, nil) == 1 else {
                ERR_clear_error()
                throw TLSError(.notPEM, "\(setting): \(caPath) holds no PEM CA certificate")
            }
        } else if SSL_CTX_set_default_verify_paths(ctx) != 1 {
            throw TLSError(.openSSLFailure, "\(setting): cannot load the system CA store")
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
        if let certificateChainPath, let privateKeyPath {
            guard SSL_CTX_use_certificate_chain_file(ctx, certificateChainPath) == 1,
                SSL_CTX_use_PrivateKey_file(ctx, privateKeyPath, SSL_FILETYPE_PEM) == 1,
                SSL_CTX_check_private_key(ctx) == 1
            else {
                ERR_clear_error()
                throw TLSError(.keyMismatch, "\(setting): the client certificate or key cannot be used")
            }
        }
    }

    deinit { SSL_CTX_free(pointer) }

    /// A client session that will verify the server as `host` (a DNS name or an IP literal).
    /// - Throws: `TLSError` when OpenSSL cannot allocate the session.
    public func makeSession(host: String) throws(TLSError) -> TLSSession {
        try TLSSession(sslContext: pointer, keeping: self, connectingTo: host)
    }
}
