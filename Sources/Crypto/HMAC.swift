import COpenSSL

/// Keyed-hash message authentication codes (RFC 2104) through OpenSSL.
public enum HMAC {
    /// The HMAC of `message` under `key` with `algorithm`.
    public static func authenticationCode(
        for message: some ContiguousBytes, key: some ContiguousBytes, using algorithm: DigestAlgorithm = .sha256
    ) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        key.withUnsafeBytes { k in
            message.withUnsafeBytes { m in
                out.withUnsafeMutableBytes { o in
                    // A zero-length key still needs a non-null pointer.
                    var empty: UInt8 = 0
                    let keyPointer = k.baseAddress ?? withUnsafeMutablePointer(to: &empty) { UnsafeRawPointer($0) }
                    let result = COpenSSL.HMAC(
                        algorithm.evp, keyPointer, Int32(k.count),
                        m.baseAddress?.assumingMemoryBound(to: UInt8.self), m.count,
                        o.baseAddress!.assumingMemoryBound(to: UInt8.self), &length)
                    precondition(result != nil, "HMAC failed on a built-in digest")
                }
            }
        }
        return Array(out.prefix(Int(length)))
    }
}
