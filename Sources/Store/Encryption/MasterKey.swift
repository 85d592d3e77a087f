import Crypto
import PortalCore

/// The master key (`PORTAL_MASTER_KEY`): it wraps every subject's data key and keys the subject hashes.
///
/// The configured secret is never used directly: HKDF-SHA256 (OpenSSL) derives from it an AES-256-GCM wrapping
/// key, an HMAC-SHA256 key for subject hashes, and a public key id, each for its own purpose. The key id is
/// stored beside every wrapped data key, so a later rotation can tell which master key wrapped which row.
public final class MasterKey: Sendable {
    /// The shortest secret accepted, in bytes.
    public static let minimumByteCount = 32

    /// A public name of this master key: 16 hex digits, the same for the same secret.
    public let id: String
    private let wrappingKey: [UInt8]
    private let subjectHashKey: HMACKey

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
        subjectHashKey = HMACKey(secret: derive("story-portal master key v1 subject hash"))
        id = String(Digest.hex(derive("story-portal master key v1 id")).prefix(16))
    }

    /// The keyed hash that stands for `subjectID` wherever the store must find a subject without naming it:
    /// 64 hex digits of HMAC-SHA256. Without the master key it cannot be reversed or checked against a guess.
    public func subjectHash(_ subjectID: String) -> String {
        Digest.hex(subjectHashKey.authenticationCode(for: Array(("subject\u{0}" + subjectID).utf8)))
    }

    /// `dataKey` sealed with AES-256-GCM under the wrapping key, bound to `keyID`: base64url of
    /// nonce ‖ ciphertext ‖ tag.
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
