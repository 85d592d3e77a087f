import COpenSSL

/// An HMAC key prepared once: OpenSSL's MAC context is fetched and keyed at creation, and each use
/// duplicates that keyed context, so the per-message cost is the hashing alone.
///
/// Thread-safe: the keyed template is only ever read (duplicated), never updated, after `init`.
public final class HMACKey: @unchecked Sendable {
    public let algorithm: DigestAlgorithm
    private let template: OpaquePointer

    /// - Parameters:
    ///   - secret: the key bytes; may be empty.
    ///   - algorithm: the digest; SHA-256 by default.
    public init(secret: some ContiguousBytes, using algorithm: DigestAlgorithm = .sha256) {
        self.algorithm = algorithm
        let mac = EVP_MAC_fetch(nil, "HMAC", nil)
        precondition(mac != nil, "OpenSSL has no HMAC implementation")
        defer { EVP_MAC_free(mac) }
        guard let context = EVP_MAC_CTX_new(mac) else { preconditionFailure("EVP_MAC_CTX_new failed") }
        // OSSL_PARAM keeps pointers to its key and value: both must outlive EVP_MAC_init.
        let keyed: Int32 = "digest".withCString { parameterName in
            algorithm.openSSLName.withCString { name in
                let digestParameter = UnsafeMutablePointer<OSSL_PARAM>.allocate(capacity: 2)
                defer { digestParameter.deallocate() }
                digestParameter[0] = OSSL_PARAM_construct_utf8_string(
                    parameterName, UnsafeMutablePointer(mutating: name), 0)
                digestParameter[1] = OSSL_PARAM_construct_end()
                let placeholder: [UInt8] = [0]
                return secret.withUnsafeBytes { key in
                    placeholder.withUnsafeBytes { p in
                        let pointer = (key.baseAddress ?? p.baseAddress)!.assumingMemoryBound(to: UInt8.self)
                        return EVP_MAC_init(context, pointer, key.count, digestParameter)
                    }
                }
            }
        }
        precondition(keyed == 1, "EVP_MAC_init failed on a built-in digest")
        template = context
    }

    deinit { EVP_MAC_CTX_free(template) }

    /// The HMAC of `message`; `algorithm.byteCount` bytes.
    public func authenticationCode(for message: some ContiguousBytes) -> [UInt8] {
        guard let context = EVP_MAC_CTX_dup(template) else { preconditionFailure("EVP_MAC_CTX_dup failed") }
        defer { EVP_MAC_CTX_free(context) }
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length = 0
        let ok = message.withUnsafeBytes { m in
            out.withUnsafeMutableBufferPointer { o in
                EVP_MAC_update(context, m.baseAddress?.assumingMemoryBound(to: UInt8.self), m.count) == 1
                    && EVP_MAC_final(context, o.baseAddress, &length, o.count) == 1
            }
        }
        precondition(ok, "HMAC failed on a built-in digest")
        return Array(out.prefix(length))
    }

    /// Whether `code` is the full-length HMAC of `message`, compared in constant time.
    public func isValidAuthenticationCode(_ code: some ContiguousBytes, for message: some ContiguousBytes) -> Bool {
        ConstantTime.equals(authenticationCode(for: message), code)
    }
}
