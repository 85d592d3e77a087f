import Crypto

/// Checks the `X-Service-Key` of internal callers against keys configured at start-up.
///
/// Only SHA-256 hashes of the keys are kept. A presented key is hashed and compared in constant
/// time against every stored hash, without stopping at a match, so timing reveals neither
/// which key matched nor how much of it. With no keys configured every request is refused
/// (fail closed).
public struct ServiceKeyAuthenticator: Sendable {
    private let keyHashes: [[UInt8]]

    /// - Parameter keys: the plaintext keys (`L01_API_KEYS`); empty strings are ignored.
    public init(keys: [String]) {
        keyHashes = keys.filter { !$0.isEmpty }.map { Digest.sha256(Array($0.utf8)) }
    }

    /// How many keys are configured.
    public var keyCount: Int { keyHashes.count }

    /// Whether `presented` is one of the configured keys.
    public func isValid(_ presented: String?) -> Bool {
        guard let presented, !presented.isEmpty else { return false }
        let hash = Digest.sha256(Array(presented.utf8))
        var matched = false
        for stored in keyHashes {
            let equal = ConstantTime.equals(hash, stored)
            matched = matched || equal
        }
        return matched
    }
}
