import Crypto
import PortalCore

/// A master key (`PORTAL_MASTER_KEY`, or `PORTAL_MASTER_KEY_PREVIOUS` during a rotation): it wraps every
/// subject's data key and the store's subject-hash key.
///
/// The configured secret is never used directly: HKDF-SHA256 (OpenSSL) derives from it an AES-256-GCM wrapping
/// key, an HMAC-SHA256 key for subject hashes, and a public key id, each for its own purpose. The key id is
/// stored beside every wrapped key, so that a rotation can tell which master key wrapped which row.
///
/// The derived subject-hash key is used only to start a store's own (see `SubjectHashKey`): the store keeps
/// that one across rotations, so subject hashes do not change with the master key.
public final class MasterKey: Sendable {
    /// The shortest secret accepted, in bytes.
    public static let minimumByteCount = 32

    /// A public name of this master key: 16 hex digits, the same for the same secret.
    public let id: String
    private let wrappingKey: [UInt8]
    /// The subject-hash key this master key derives, which a store adopts when this key seals it first.
    let derivedSubjectHashKey: SubjectHashKey

    /// - Returns: nil when `secret` is shorter than `minimumByteCount` bytes.
    public init?(secret: [UInt8]) {
        guard secret.count >= Self.minimumByteCount else { return nil }
        func derive(_ purpose: String) -> [UInt8] {
            do {
                return try HKDF.deriveKey(from: secret, salt: [], info: Array(purpose.utf8), byteCount: 32)
            } catch {
                // The secret is non-empty and the length fixed: only a broken OpenSSL gets here.
                preconditionFailure("HKDF failed with valid inputs: \(error)")
            }
        }
        wrappingKey = derive("story-portal master key v1 wrap")
        derivedSubjectHashKey = SubjectHashKey(secret: derive("story-portal master key v1 subject hash"))
        id = String(Digest.hex(derive("story-portal master key v1 id")).prefix(16))
    }

    /// The keyed hash of `subjectID` under this master key's derived subject-hash key: 64 hex digits of
    /// HMAC-SHA256. It is the store's subject hash when this master key sealed the store first (the store keeps
    /// that key through rotations, see `SubjectHashKey`).
    public func subjectHash(_ subjectID: String) -> String {
        derivedSubjectHashKey.hash(subjectID)
    }

    /// `dataKey` sealed with AES-256-GCM under the wrapping key, bound to `keyID`: base64url of
    /// nonce ‖ ciphertext ‖ tag. The subject-hash key is wrapped the same way, under its own key id.
    func wrap(_ dataKey: [UInt8], keyID: String) -> String {
        do {
            let box = try AESGCM.seal(dataKey, key: wrappingKey, authenticating: Self.wrapContext(keyID))
            return Base64URL.encode(box.nonce + box.ciphertext + box.tag)
        } catch {
            preconditionFailure("AES-256-GCM seal failed with valid inputs: \(error)")
        }
    }

    /// The data key in `wrapped`.
    /// - Throws: `StoreError.undecryptable` when it was wrapped by another master key, for another key id, or
    ///   altered.
    func unwrap(_ wrapped: String, keyID: String, masterKeyID: String) throws -> [UInt8] {
        guard masterKeyID == id else { throw StoreError.wrongMasterKey }
        guard let box = Sealed.split(wrapped) else { throw StoreError.undecryptable }
        do {
            return try AESGCM.open(box, key: wrappingKey, authenticating: Self.wrapContext(keyID))
        } catch {
            throw StoreError.undecryptable
        }
    }

    private static func wrapContext(_ keyID: String) -> [UInt8] {
        Array("story-portal data key v1\u{0}\(keyID)".utf8)
    }
}
