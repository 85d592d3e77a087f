import Crypto
import Synchronization

/// What a store needs to keep event payloads and metadata encrypted at rest: the master key (and, during a
/// rotation, the previous one), a cache of unwrapped data keys, and the store's subject-hash key once read. A
/// store opened without one writes plaintext and cannot read sealed rows.
public final class EventEncryption: Sendable {
    /// The current master key: every data key created from now on is wrapped by it.
    public let masterKey: MasterKey
    /// The master key being rotated away from (`PORTAL_MASTER_KEY_PREVIOUS`): it only unwraps what it wrapped.
    public let previousMasterKey: MasterKey?
    let cache: DataKeyCache
    private let subjectHashKeyCache: Mutex<SubjectHashKey?>

    /// - Parameters:
    ///   - previous: the master key being rotated away from; nil (the default) outside a rotation.
    ///   - cacheCapacity: the most unwrapped data keys kept in memory; default 4096 (about 300 KiB).
    /// - Precondition: `previous` is another key than `masterKey`.
    public init(masterKey: MasterKey, previous: MasterKey? = nil, cacheCapacity: Int = 4096) {
        precondition(previous?.id != masterKey.id, "the previous master key must differ from the current one")
        self.masterKey = masterKey
        previousMasterKey = previous
        cache = DataKeyCache(capacity: cacheCapacity)
        subjectHashKeyCache = Mutex(nil)
    }

    /// The ids of the master keys this encryption can unwrap with: the current one, and the previous one if set.
    public var masterKeyIDs: Set<String> {
        Set([masterKey.id] + (previousMasterKey.map { [$0.id] } ?? []))
    }

    /// Unwrapped data keys held in memory now; for tests of erasure.
    public var cachedKeyCount: Int { cache.count }

    /// A fresh data key for a subject: a random key id (32 hex digits), the key, and its form wrapped by the
    /// current master key.
    func newDataKey() -> (keyID: String, key: [UInt8], wrapped: String) {
        let keyID = Digest.hex(SecureRandom.bytes(count: 16))
        let key = SecureRandom.bytes(count: 32)
        return (keyID, key, masterKey.wrap(key, keyID: keyID))
    }

    /// The data key `keyID`, from the cache or unwrapped (and then cached).
    func dataKey(_ keyID: String, wrapped: String, masterKeyID: String) throws -> [UInt8] {
        if let key = cache.key(keyID) { return key }
        let key = try unwrap(wrapped, keyID: keyID, masterKeyID: masterKeyID)
        cache.insert(key, for: keyID)
        return key
    }

    /// The key in `wrapped`, opened by whichever configured master key `masterKeyID` names.
    /// - Throws: `StoreError.wrongMasterKey` when neither is that key; `StoreError.undecryptable` when it does not
    ///   open.
    func unwrap(_ wrapped: String, keyID: String, masterKeyID: String) throws -> [UInt8] {
        if let previousMasterKey, previousMasterKey.id == masterKeyID {
            return try previousMasterKey.unwrap(wrapped, keyID: keyID, masterKeyID: masterKeyID)
        }
        return try masterKey.unwrap(wrapped, keyID: keyID, masterKeyID: masterKeyID)
    }

    /// The subject-hash key read earlier by this process, if any.
    var cachedSubjectHashKey: SubjectHashKey? { subjectHashKeyCache.withLock { $0 } }

    /// Keeps `key` for later calls; a store calls it once the transaction that read or recorded it committed.
    func remember(_ key: SubjectHashKey) {
        subjectHashKeyCache.withLock { $0 = key }
    }
}
