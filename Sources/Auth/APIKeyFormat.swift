import Crypto
import PortalCore

/// API keys as the product prints them once: `spk_<16 hex digits>_<43 base64url characters>`.
///
/// The first part (`spk_` and the hex digits) is the key's public id, by which the store finds it and logs
/// and listings name it; the rest is 256 random bits, stored only as a keyed hash (`CredentialHasher`).
public enum APIKeyFormat {
    /// The prefix every key and key id starts with.
    public static let prefix = "spk_"

    /// A fresh key: the text to hand out, its public id and its secret part.
    public static func generate() -> (key: String, id: String, secret: String) {
        let id = prefix + Digest.hex(SecureRandom.bytes(count: 8))
        let secret = Base64URL.encode(SecureRandom.bytes(count: 32))
        return (id + "_" + secret, id, secret)
    }

    /// Whether `text` starts like a key, so an `Authorization: Bearer` value is read as a key, not a JWT.
    public static func hasKeyPrefix(_ text: some StringProtocol) -> Bool { text.hasPrefix(prefix) }

    /// The id and secret of a well-formed key, or nil: exact length, lower-case hex id, canonical base64url.
    public static func parse(_ text: some StringProtocol) -> (id: String, secret: String)? {
        let bytes = Array(text.utf8)
        guard bytes.count == 4 + 16 + 1 + 43, text.hasPrefix(prefix), bytes[20] == UInt8(ascii: "_") else { return nil }
        let hex = bytes[4..<20]
        guard hex.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else { return nil }
        let secret = Array(bytes[21...])
        guard let decoded = Base64URL.decode(secret), decoded.count == 32 else { return nil }
        return (String(decoding: bytes[..<20], as: UTF8.self), String(decoding: secret, as: UTF8.self))
    }

    /// Whether `text` is a key id (`spk_` and 16 lower-case hex digits).
    public static func isKeyID(_ text: some StringProtocol) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.count == 20 && text.hasPrefix(prefix)
            && bytes[4...].allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}

/// Opaque refresh tokens: `srt_<43 base64url characters>` (256 random bits), stored only as a keyed hash.
public enum RefreshTokenFormat {
    public static let prefix = "srt_"

    /// A fresh token.
    public static func generate() -> String { prefix + Base64URL.encode(SecureRandom.bytes(count: 32)) }

    /// Whether `text` has the shape of a refresh token (it may still be unknown, spent or revoked).
    public static func isWellFormed(_ text: some StringProtocol) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 4 + 43, text.hasPrefix(prefix) else { return false }
        return Base64URL.decode(Array(bytes[4...]))?.count == 32
    }
}

/// Keyed hashes of credentials for storage: HMAC-SHA256 under the server's credential key
/// (`CREDENTIAL_HMAC_KEY`), in lower-case hex. A stolen store alone then cannot even confirm a guessed key.
public struct CredentialHasher: Sendable {
    private let key: HMACKey

    /// - Parameter key: at least 32 bytes of secret.
    public init(key: [UInt8]) {
        precondition(key.count >= 32, "the credential key needs at least 32 bytes")
        self.key = HMACKey(secret: key)
    }

    /// The stored form of `secret`.
    public func hash(_ secret: some StringProtocol) -> String {
        Digest.hex(key.authenticationCode(for: Array(secret.utf8)))
    }

    /// Whether `secret` hashes to `stored`, compared in constant time.
    public func matches(_ secret: some StringProtocol, stored: String) -> Bool {
        ConstantTime.equals(Array(hash(secret).utf8), Array(stored.utf8))
    }
}
