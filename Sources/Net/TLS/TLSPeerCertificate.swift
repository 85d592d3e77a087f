import COpenSSL

/// A client certificate that verified against the configured client CA during the handshake.
///
/// Built only from a verified chain; never from a request header.
public struct TLSPeerCertificate: Sendable, Equatable {
    /// The subject distinguished name in RFC 2253 form, e.g. `CN=client-1,O=Example`.
    public let subject: String
    /// Lowercase hex SHA-256 of the certificate's DER encoding, 64 characters.
    public let sha256Fingerprint: String

    /// Reads subject and fingerprint of `certificate` (an `X509 *`); nil if OpenSSL cannot encode it.
    init?(certificate: OpaquePointer) {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_digest(certificate, EVP_sha256(), &digest, &length) == 1, length == 32 else {
            ERR_clear_error()
            return nil
        }
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in digest[..<32] {
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0xF)])
        }
        guard let bio = BIO_new(BIO_s_mem()) else { return nil }
        defer { BIO_free(bio) }
        guard X509_NAME_print_ex(bio, X509_get_subject_name(certificate), 0, portal_XN_FLAG_RFC2253()) >= 0 else {
            ERR_clear_error()
            return nil
        }
        var name = [UInt8](repeating: 0, count: BIO_ctrl_pending(bio))
        let read = name.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, Int32($0.count)) }
        subject = String(decoding: name.prefix(max(0, Int(read))), as: UTF8.self)
        sha256Fingerprint = String(decoding: text, as: UTF8.self)
    }
}
