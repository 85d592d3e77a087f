import COpenSSL

#if canImport(Glibc)
    import Glibc
#endif

extension TLSSession {
    /// Sets what the server's certificate must name: `host` as a DNS name (also sent as SNI) or as an IP
    /// address when it is an IPv4/IPv6 literal.
    static func expectPeer(_ host: String, on ssl: OpaquePointer) throws(TLSError) {
        var scratch = in6_addr()
        let isAddress = inet_pton(AF_INET, host, &scratch) == 1 || inet_pton(AF_INET6, host, &scratch) == 1
        let ok: Bool
        if isAddress {
            ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1
        } else {
            ok = portal_SSL_set_tlsext_host_name(ssl, host) == 1 && SSL_set1_host(ssl, host) == 1
        }
        // No SSL_free here: the session's deinit frees `ssl` when its initializer throws.
        guard ok else {
            throw TLSError(.openSSLFailure, "TLS: cannot expect peer \(host) (\(TLSError.drainOpenSSLReason()))")
        }
    }
}
