import Crypto

/// What a store needs to keep event payloads and metadata encrypted at rest: the master key and a cache of
/// unwrapped data keys. A store opened without one writes plaintext and cannot read sealed rows.
public final class EventEncryption: Sendable {
    public let masterKey: MasterKey
    let cache: DataKeyCache

    /// - Parameters:
    ///   - cacheCapacity: the most unwrapped data keys kept in memory; default 4096 (about 300 KiB).
    public init(masterKey: MasterKey, cacheCapacity: Int = 4096) {
        self.masterKey = masterKey
        cache = DataKeyCache(capacity: cacheCapacity)
    }

    /// Unwrapped data keys held in memory now; for tests of erasure.
    public var cachedKeyCount: Int { cache.count }

    /// A fresh data key for a subject: a random key id (32 hex digits), the key, and its wrapped form.
    func newDataKey() -> (keyID: String, key: [UInt8], wrapped: String) {
        let keyID = Digest.hex(SecureRandom.bytes(count: 16))
        let key = SecureRandom.bytes(count: 32)
        return (keyID, key, masterKey.wrap(key, keyID: keyID))
    }

    /// The data key `keyID`, from the cache or unwrapped (and then cached).
    func dataKey(_ keyID: String, wrapped: String, masterKeyID: String) throws -> [UInt8] {
        if let key = cache.key(keyID) { return key }
        let key = try masterKey.unwrap(wrapped, keyID: keyID, masterKeyID: masterKeyID)
        cache.insert(key, for: keyID)
        return key
    }
}
