import COpenSSL

/// HKDF (RFC 5869): extract-then-expand key derivation, computed by OpenSSL's `EVP_KDF` "HKDF".
public enum HKDF {
    /// Derives `byteCount` bytes from `secret`, bound to `salt` and `info`.
    /// - Parameters:
    ///   - secret: the input keying material; any length, may not be empty.
    ///   - salt: a non-secret random value (RFC 5869 §3.1); may be empty.
    ///   - info: what the key is for, so that one secret yields independent keys for different uses.
    ///   - byteCount: the output length, 1 to 255 × the digest length.
    ///   - algorithm: the digest; SHA-256 by default.
    /// - Throws: `CryptoError` (`invalid_input`) for an empty secret or a length out of range.
    public static func deriveKey(
        from secret: [UInt8], salt: [UInt8], info: [UInt8], byteCount: Int, using algorithm: DigestAlgorithm = .sha256
    ) throws(CryptoError) -> [UInt8] {
        guard !secret.isEmpty else { throw CryptoError(.invalidInput, "HKDF secret length") }
        guard byteCount >= 1, byteCount <= 255 * algorithm.byteCount else {
            throw CryptoError(.invalidInput, "HKDF output length")
        }
        guard let kdf = EVP_KDF_fetch(nil, "HKDF", nil) else { throw CryptoError(.openSSLFailure, "EVP_KDF_fetch") }
        defer { EVP_KDF_free(kdf) }
        guard let context = EVP_KDF_CTX_new(kdf) else { throw CryptoError(.openSSLFailure, "EVP_KDF_CTX_new") }
        defer { EVP_KDF_CTX_free(context) }
        var out = [UInt8](repeating: 0, count: byteCount)
        // OSSL_PARAM keeps pointers to names and values: everything stays alive across EVP_KDF_derive.
        let placeholder: [UInt8] = [0]
        let ok = algorithm.openSSLName.withCString { digest in
            secret.withUnsafeBytes { key in
                salt.withUnsafeBytes { saltBytes in
                    info.withUnsafeBytes { infoBytes in
                        placeholder.withUnsafeBytes { empty in
                            let parameters = UnsafeMutablePointer<OSSL_PARAM>.allocate(capacity: 5)
                            defer { parameters.deallocate() }
                            parameters[0] = OSSL_PARAM_construct_utf8_string(
                                name("digest"), UnsafeMutablePointer(mutating: digest), 0)
                            parameters[1] = OSSL_PARAM_construct_octet_string(
                                name("key"), UnsafeMutableRawPointer(mutating: key.baseAddress!), key.count)
                            parameters[2] = OSSL_PARAM_construct_octet_string(
                                name("salt"),
                                UnsafeMutableRawPointer(mutating: saltBytes.baseAddress ?? empty.baseAddress!),
                                saltBytes.count)
                            parameters[3] = OSSL_PARAM_construct_octet_string(
                                name("info"),
                                UnsafeMutableRawPointer(mutating: infoBytes.baseAddress ?? empty.baseAddress!),
                                infoBytes.count)
                            parameters[4] = OSSL_PARAM_construct_end()
                            return out.withUnsafeMutableBufferPointer {
                                EVP_KDF_derive(context, $0.baseAddress, $0.count, parameters)
                            }
                        }
                    }
                }
            }
        }
        guard ok == 1 else { throw CryptoError(.openSSLFailure, "EVP_KDF_derive") }
        return out
    }

    /// A parameter name that outlives the call: OSSL_PARAM keeps the pointer, and a static string's bytes
    /// (NUL-terminated in the binary) live for the whole process.
    private static func name(_ text: StaticString) -> UnsafePointer<CChar> {
        UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
    }
}
