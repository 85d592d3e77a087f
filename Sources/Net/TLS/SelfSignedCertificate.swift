import COpenSSL
import PortalCore

#if canImport(Glibc)
    import Glibc
#endif

/// A development certificate and key made with OpenSSL: EC P-256, X.509 v3, SHA-256 signature.
///
/// The certificate carries SAN `DNS:host` (and `IP:host` when `host` is an IPv4 literal; an IPv6 literal
/// gets `IP:` only), `basicConstraints=CA:FALSE`, `keyUsage=digitalSignature`, `extendedKeyUsage=serverAuth`
/// and a random 127-bit serial. It is for development: nothing trusts it unless told to.
public struct SelfSignedCertificate: Sendable {
    /// The certificate in PEM.
    public let certificatePEM: [UInt8]
    /// The PKCS#8 private key in PEM, unencrypted. Secret: write it with mode 0600.
    public let privateKeyPEM: [UInt8]

    /// Makes a key and a certificate for `host`, valid from `clock`'s now for `days` days.
    /// - Parameters:
    ///   - host: a DNS name (letters, digits, `-`, `.`) or an IP literal; at most 253 characters.
    ///   - days: validity in days, 1...3650; default 365.
    ///   - clock: the start of validity; default the system clock.
    /// - Throws: `TLSError` when `host` is not a plain name or address, or OpenSSL fails.
    public init(host: String, days: Int = 365, clock: any PortalClock = SystemClock()) throws(TLSError) {
        guard (1...3650).contains(days) else { throw TLSError(.openSSLFailure, "--days: expected 1 to 3650") }
        let san = try Self.subjectAltName(host)
        ERR_clear_error()
        let key = try Self.makeKey()
        defer { EVP_PKEY_free(key) }
        guard let certificate = X509_new() else { throw Self.failure("X509_new") }
        defer { X509_free(certificate) }

        // Version 3, random positive serial, validity window.
        var serial = [UInt8](repeating: 0, count: 16)
        guard RAND_bytes(&serial, Int32(serial.count)) == 1 else { throw Self.failure("RAND_bytes") }
        serial[0] &= 0x7F
        guard X509_set_version(certificate, 2) == 1,
            let number = BN_bin2bn(serial, Int32(serial.count), nil)
        else { throw Self.failure("serial") }
        defer { BN_free(number) }
        var now = time_t(clock.unixSeconds())
        guard BN_to_ASN1_INTEGER(number, X509_get_serialNumber(certificate)) != nil,
            X509_time_adj_ex(X509_getm_notBefore(certificate), 0, 0, &now) != nil,
            X509_time_adj_ex(X509_getm_notAfter(certificate), Int32(days), 0, &now) != nil
        else { throw Self.failure("validity") }

        // Subject = issuer = CN=host; then the extensions, then the signature over all of it.
        guard let name = X509_get_subject_name(certificate),
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, host, -1, -1, 0) == 1,
            X509_set_issuer_name(certificate, name) == 1,
            X509_set_pubkey(certificate, key) == 1
        else { throw Self.failure("subject") }
        try Self.addExtensions(to: certificate, san: san)
        guard X509_sign(certificate, key, EVP_sha256()) > 0 else { throw Self.failure("X509_sign") }

        certificatePEM = try Self.pem { PEM_write_bio_X509($0, certificate) }
        privateKeyPEM = try Self.pem { PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil) }
    }

    /// The SAN value for `host`; refuses anything that could smuggle more entries into OpenSSL's syntax.
    static func subjectAltName(_ host: String) throws(TLSError) -> String {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return "DNS:\(host),IP:\(host)" }
        if inet_pton(AF_INET6, host, &v6) == 1 { return "IP:\(host)" }
        let allowed = host.utf8.allSatisfy { byte in
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
        }
        guard allowed, !host.isEmpty, host.utf8.count <= 253, !host.hasPrefix("."), !host.hasPrefix("-") else {
            throw TLSError(.openSSLFailure, "--host: expected a DNS name or an IP address")
        }
        return "DNS:\(host)"
    }

    private static func makeKey() throws(TLSError) -> OpaquePointer {
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else { throw failure("EVP_PKEY_CTX") }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1, EVP_PKEY_CTX_set_group_name(context, "P-256") == 1,
            EVP_PKEY_keygen(context, &key) == 1, let key
        else { throw failure("EVP_PKEY_keygen") }
        return key
    }

    private static func addExtensions(to certificate: OpaquePointer, san: String) throws(TLSError) {
        var context = X509V3_CTX()
        X509V3_set_ctx(&context, certificate, certificate, nil, nil, 0)
        let extensions: [(Int32, String)] = [
            (NID_basic_constraints, "critical,CA:FALSE"),
            (NID_key_usage, "critical,digitalSignature"),
            (NID_ext_key_usage, "serverAuth"),
            (NID_subject_key_identifier, "hash"),
            (NID_subject_alt_name, san),
        ]
        for (nid, value) in extensions {
            guard let ext = X509V3_EXT_conf_nid(nil, &context, nid, value) else { throw failure("extension") }
            defer { X509_EXTENSION_free(ext) }
            guard X509_add_ext(certificate, ext, -1) == 1 else { throw failure("X509_add_ext") }
        }
    }

    private static func pem(_ write: (OpaquePointer) -> Int32) throws(TLSError) -> [UInt8] {
        guard let bio = BIO_new(BIO_s_mem()) else { throw failure("BIO_new") }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else { throw failure("PEM_write") }
        var out = [UInt8](repeating: 0, count: BIO_ctrl_pending(bio))
        let read = out.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, Int32($0.count)) }
        guard Int(read) == out.count else { throw failure("BIO_read") }
        return out
    }

    private static func failure(_ step: String) -> TLSError {
        TLSError(.openSSLFailure, "cert: \(step) failed (\(TLSError.drainOpenSSLReason()))")
    }
}
