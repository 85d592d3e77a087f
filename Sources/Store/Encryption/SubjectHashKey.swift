import Crypto

/// The key of subject hashes: `subject_keys.subject_hash` and the `subject.erased` records name a subject by the
/// HMAC-SHA256 of its id under this key, so that the store finds a subject's data key without naming it.
///
/// The key belongs to the store, not to a master key. A store takes the key its first master key derives and
/// keeps it in `subject_keys`, wrapped by the current master key like a data key (key id `subject-hash-key`).
/// Rotating the master key re-wraps that row with the others, so every hash stays what it was: a subject's live
/// key is found, and its erasure finds it, before, during and after a rotation, and the hashes in erasure
/// records keep naming the same subjects. docs/encryption-at-rest.md explains why hashes are not re-derived.
struct SubjectHashKey: Sendable {
    /// The `key_id` of the `subject_keys` row that holds the key: not 32 hex digits, so no event names it.
    static let keyID = "subject-hash-key"
    /// The `subject_hash` of that row: not 64 hex digits, so no subject's hash is equal to it, and the unique
    /// index on live hashes keeps one such row.
    static let rowHash = "store:subject-hash-key"

    /// The HMAC secret, kept to wrap it when the store first records it.
    let secret: [UInt8]
    private let key: HMACKey

    /// - Precondition: `secret` is 32 bytes.
    init(secret: [UInt8]) {
        precondition(secret.count == 32, "a subject-hash key is 32 bytes")
        self.secret = secret
        key = HMACKey(secret: secret)
    }

    /// The keyed hash that stands for `subjectID`: 64 hex digits. Without the key it cannot be reversed or
    /// checked against a guess.
    func hash(_ subjectID: String) -> String {
        Digest.hex(key.authenticationCode(for: Array(("subject\u{0}" + subjectID).utf8)))
    }
}
