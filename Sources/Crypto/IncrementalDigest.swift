import COpenSSL

/// An incremental digest: feed bytes in pieces, then take the digest once. Computed by OpenSSL's EVP digests.
///
/// Not thread-safe: one owner feeds it.
public final class IncrementalDigest {
    private let context: OpaquePointer
    private let algorithm: DigestAlgorithm
    private var finished = false

    /// A fresh digest of `algorithm` (SHA-256 by default).
    public init(_ algorithm: DigestAlgorithm = .sha256) {
        guard let context = EVP_MD_CTX_new() else { preconditionFailure("EVP_MD_CTX_new failed") }
        precondition(EVP_DigestInit_ex(context, algorithm.evp, nil) == 1, "EVP_DigestInit_ex failed")
        self.context = context
        self.algorithm = algorithm
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Feeds `bytes`.
    /// - Precondition: `finalize()` has not been called.
    public func update(_ bytes: UnsafeRawBufferPointer) {
        precondition(!finished, "update after finalize")
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        precondition(EVP_DigestUpdate(context, base, bytes.count) == 1, "EVP_DigestUpdate failed")
    }

    /// Feeds `bytes`.
    public func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// The digest of everything fed; `algorithm.byteCount` bytes. Call once.
    public func finalize() -> [UInt8] {
        precondition(!finished, "finalize called twice")
        finished = true
        var out = [UInt8](repeating: 0, count: algorithm.byteCount)
        var length: UInt32 = 0
        let ok = out.withUnsafeMutableBufferPointer { EVP_DigestFinal_ex(context, $0.baseAddress, &length) }
        precondition(ok == 1 && Int(length) == algorithm.byteCount, "EVP_DigestFinal_ex failed")
        return out
    }
}
