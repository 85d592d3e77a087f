import Crypto

/// The backup secret (`BACKUP_KEY(_FILE)`), from which every file gets keys of its own.
///
/// Each file carries a random 32-byte salt; HKDF-SHA256 (OpenSSL) turns secret and salt into the file's
/// AES-256-GCM key and a separate key-check key, so no two files share a key and chunk nonces can be counters.
public struct BackupKey: Sendable {
    /// The shortest secret accepted, in bytes.
    public static let minimumByteCount = 32

    let secret: [UInt8]

    /// - Throws: `BackupError` (`wrong_key`) when `secret` is shorter than 32 bytes.
    public init(secret: [UInt8]) throws {
        guard secret.count >= Self.minimumByteCount else {
            throw BackupError(.wrongKey, "the backup key must be at least \(Self.minimumByteCount) bytes")
        }
        self.secret = secret
    }

    /// The keys of one file.
    struct FileKeys {
        let encryption: [UInt8]
        let check: [UInt8]
    }

    /// The file keys for `salt`.
    func fileKeys(salt: [UInt8]) -> FileKeys {
        do {
            return FileKeys(
                encryption: try HKDF.deriveKey(
                    from: secret, salt: salt, info: Array("story-portal backup v1 chunks".utf8), byteCount: 32),
                check: try HKDF.deriveKey(
                    from: secret, salt: salt, info: Array("story-portal backup v1 key check".utf8), byteCount: 32))
        } catch {
            // The secret is non-empty and the lengths are fixed: only a broken OpenSSL gets here.
            preconditionFailure("HKDF failed with valid inputs: \(error)")
        }
    }
}
