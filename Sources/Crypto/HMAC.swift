import COpenSSL

/// Keyed-hash message authentication codes (RFC 2104) through OpenSSL.
public enum HMAC {
    /// The HMAC of `message` under `key` with `algorithm` (SHA-256 by default); `algorithm.byteCount` bytes.
    public static func authenticationCode(
        for message: some ContiguousBytes, key: some ContiguousBytes, using algorithm: DigestAlgorithm = .sha256
    ) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        // A zero-length key still needs a non-null pointer.
        let placeholder: [UInt8] = [0]
        key.withUnsafeBytes { k in
            placeholder.withUnsafeBytes { p in
                message.withUnsafeBytes { m in
                    out.withUnsafeMutableBufferPointer { o in
                        let keyPointer = k.baseAddress ?? p.baseAddress
                        let result = COpenSSL.HMAC(
                            algorithm.evp, keyPointer, Int32(clamping: k.count),
                            m.baseAddress?.assumingMemoryBound(to: UInt8.self), m.count,
                            o.baseAddress, &length)
                        precondition(result != nil, "HMAC failed on a built-in digest")
                    }
                }
            }
        }
        return Array(out.prefix(Int(length)))
    }

    /// Whether `code` is the full-length HMAC of `message` under `key`, compared in constant time.
    ///
    /// A truncated or over-long `code` is refused, whatever its bytes.
    public static func isValidAuthenticationCode(
        _ code: some ContiguousBytes, for message: some ContiguousBytes, key: some ContiguousBytes,
        using algorithm: DigestAlgorithm = .sha256
    ) -> Bool {
        let expected = authenticationCode(for: message, key: key, using: algorithm)
        return ConstantTime.equals(expected, code)
    }
}
