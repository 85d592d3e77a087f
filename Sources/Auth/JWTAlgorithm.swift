import Crypto

/// The JWS algorithms (RFC 7518, RFC 8037) a verification key may be pinned to. `none` is not one of them.
public enum JWTAlgorithm: String, Sendable, CaseIterable {
    case hs256 = "HS256"
    case hs384 = "HS384"
    case hs512 = "HS512"
    case rs256 = "RS256"
    case rs384 = "RS384"
    case rs512 = "RS512"
    case ps256 = "PS256"
    case ps384 = "PS384"
    case ps512 = "PS512"
    case es256 = "ES256"
    case es384 = "ES384"
    case edDSA = "EdDSA"

    /// The digest the algorithm signs with; `nil` for EdDSA, which hashes internally.
    var digest: DigestAlgorithm? {
        switch self {
        case .hs256, .rs256, .ps256, .es256: .sha256
        case .hs384, .rs384, .ps384, .es384: .sha384
        case .hs512, .rs512, .ps512: .sha512
        case .edDSA: nil
        }
    }

    /// Whether the algorithm is an HMAC, keyed by a shared secret.
    public var isHMAC: Bool { self == .hs256 || self == .hs384 || self == .hs512 }

    /// The public-key kind the algorithm needs; `nil` for HMAC.
    var publicKeyKind: PublicKey.Kind? {
        switch self {
        case .hs256, .hs384, .hs512: nil
        case .rs256, .rs384, .rs512, .ps256, .ps384, .ps512: .rsa
        case .es256: .ec(.p256)
        case .es384: .ec(.p384)
        case .edDSA: .ed25519
        }
    }
}
