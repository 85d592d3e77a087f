import Crypto

extension JWTVerifier {
    /// A verification key pinned to exactly one algorithm, with an optional key ID.
    ///
    /// Its description never shows secret bytes.
    public struct Key: Sendable, CustomStringConvertible {
        enum Material: Sendable {
            case secret(HMACKey)
            case publicKey(PublicKey)
        }

        /// The only algorithm this key verifies.
        public let algorithm: JWTAlgorithm
        /// The `kid` a token names this key by, if any.
        public let keyID: String?
        let material: Material

        /// An HMAC key, e.g. from `JWT_SECRET`.
        /// - Parameters:
        ///   - secret: the shared secret; at least as long as the digest (32/48/64 bytes, RFC 7518 §3.2).
        ///   - algorithm: HS256 (default), HS384 or HS512.
        ///   - kid: the key ID tokens name it by, or `nil`.
        /// - Throws: `JWTError` (`invalid_key`) for a non-HMAC algorithm or a short secret.
        public static func hmac(
            secret: [UInt8], algorithm: JWTAlgorithm = .hs256, kid: String? = nil
        ) throws(JWTError) -> Key {
            guard algorithm.isHMAC, let digest = algorithm.digest else { throw JWTError(.invalidKey, "not HMAC") }
            guard secret.count >= digest.byteCount else { throw JWTError(.invalidKey, "secret too short") }
            return Key(algorithm: algorithm, keyID: kid, material: .secret(HMACKey(secret: secret, using: digest)))
        }

        /// A public key pinned to `algorithm`, which must suit it: RSA (2048 bits or more) for RS*/PS*,
        /// P-256 for ES256, P-384 for ES384, Ed25519 for EdDSA.
        /// - Throws: `JWTError` (`invalid_key`) when key and algorithm do not match.
        public static func publicKey(
            _ key: PublicKey, algorithm: JWTAlgorithm, kid: String? = nil
        ) throws(JWTError) -> Key {
            guard let kind = algorithm.publicKeyKind, kind == key.kind else {
                throw JWTError(.invalidKey, "key type does not suit algorithm")
            }
            if kind == .rsa && key.bitCount < 2048 { throw JWTError(.invalidKey, "RSA key under 2048 bits") }
            return Key(algorithm: algorithm, keyID: kid, material: .publicKey(key))
        }

        public var description: String {
            "JWTVerifier.Key(\(algorithm.rawValue), kid: \(keyID.map { "\"\($0)\"" } ?? "none"))"
        }

        /// Whether `signature` signs `input` under this key and its pinned algorithm.
        func verifies(_ signature: [UInt8], over input: ArraySlice<UInt8>) -> Bool {
            switch (material, algorithm) {
            case (.secret(let key), .hs256), (.secret(let key), .hs384), (.secret(let key), .hs512):
                return key.isValidAuthenticationCode(signature, for: input)
            case (.publicKey(let key), .rs256), (.publicKey(let key), .rs384), (.publicKey(let key), .rs512):
                guard let digest = algorithm.digest else { return false }
                return key.isValidRSASignature(signature, for: input, digest: digest, padding: .pkcs1v15)
            case (.publicKey(let key), .ps256), (.publicKey(let key), .ps384), (.publicKey(let key), .ps512):
                guard let digest = algorithm.digest else { return false }
                return key.isValidRSASignature(signature, for: input, digest: digest, padding: .pss)
            case (.publicKey(let key), .es256), (.publicKey(let key), .es384):
                guard let digest = algorithm.digest else { return false }
                return key.isValidECDSASignature(raw: signature, for: input, digest: digest)
            case (.publicKey(let key), .edDSA):
                return key.isValidEd25519Signature(signature, for: input)
            default:
                return false
            }
        }
    }
}
