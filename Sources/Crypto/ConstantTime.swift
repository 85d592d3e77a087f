import COpenSSL

/// Comparisons whose running time does not depend on where secret bytes differ.
public enum ConstantTime {
    /// Whether `a` and `b` hold the same bytes. Time depends only on the lengths.
    public static func equals(_ a: some ContiguousBytes, _ b: some ContiguousBytes) -> Bool {
        a.withUnsafeBytes { x in
            b.withUnsafeBytes { y in
                guard x.count == y.count else { return false }
                if x.count == 0 { return true }
                return CRYPTO_memcmp(x.baseAddress, y.baseAddress, x.count) == 0
            }
        }
    }
}
