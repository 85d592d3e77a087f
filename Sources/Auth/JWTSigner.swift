import Crypto
import PortalCore

/// The claims of a token the product issues.
public struct JWTClaims: Sendable, Equatable {
    public var subject: String
    /// Written as the space-separated `scope` claim.
    public var scopes: [String]
    /// `iat`, in Unix seconds.
    public var issuedAt: Int64
    /// `exp`, in Unix seconds.
    public var expiresAt: Int64
    /// `jti`; a fresh random 128-bit base64url value by default.
    public var jwtID: String
    public var issuer: String?
    public var audience: String?
    /// Written as the `roles` array claim when not empty.
    public var roles: [String]
    /// `client_id` (RFC 9068): the id of the API key a client-credentials token was minted from.
    public var clientID: String?

    public init(
        subject: String, scopes: [String], issuedAt: Int64, expiresAt: Int64,
        jwtID: String = Base64URL.encode(SecureRandom.bytes(count: 16)), issuer: String? = nil, audience: String? = nil,
        roles: [String] = [], clientID: String? = nil
    ) {
        self.roles = roles
        self.clientID = clientID
        self.subject = subject
        self.scopes = scopes
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.jwtID = jwtID
        self.issuer = issuer
        self.audience = audience
    }
}

/// Signs the tokens the product issues: HS256 with a shared secret, or ES256 with a P-256 private key.
///
/// Header: `{"alg":…,"typ":"JWT","kid":…}` (`kid` only when given). Its description never shows the key.
public struct JWTSigner: Sendable, CustomStringConvertible {
    enum Material: Sendable {
        case secret([UInt8])
        case privateKey(PrivateKey)
    }

    /// The algorithm written into every header.
    public let algorithm: JWTAlgorithm
    /// The `kid` written into every header, if any.
    public let keyID: String?
    let material: Material

    /// An HS256 signer; the secret must be at least 32 bytes.
    /// - Throws: `JWTError` (`invalid_key`) for a short secret.
    public static func hs256(secret: [UInt8], kid: String? = nil) throws(JWTError) -> JWTSigner {
        guard secret.count >= 32 else { throw JWTError(.invalidKey, "secret too short") }
        return JWTSigner(algorithm: .hs256, keyID: kid, material: .secret(secret))
    }

    /// An ES256 signer from a PEM P-256 private key.
    /// - Throws: `JWTError` (`invalid_key`) when the PEM is not an unencrypted P-256 private key.
    public static func es256(privateKeyPEM pem: String, kid: String? = nil) throws(JWTError) -> JWTSigner {
        guard let key = try? PrivateKey(pem: pem), key.kind == .ec(.p256) else {
            throw JWTError(.invalidKey, "not a P-256 private key")
        }
        return JWTSigner(algorithm: .es256, keyID: kid, material: .privateKey(key))
    }

    public var description: String { "JWTSigner(\(algorithm.rawValue), kid: \(keyID ?? "none"))" }

    /// The key that verifies this signer's tokens, pinned to its algorithm and carrying its `kid`.
    /// - Throws: `JWTError` (`invalid_key`) when the public half cannot be derived.
    public func verificationKey() throws(JWTError) -> JWTVerifier.Key {
        switch material {
        case .secret(let secret):
            return try JWTVerifier.Key.hmac(secret: secret, algorithm: algorithm, kid: keyID)
        case .privateKey(let key):
            guard let publicKey = try? key.publicKey() else { throw JWTError(.invalidKey, "no public key") }
            return try JWTVerifier.Key.publicKey(publicKey, algorithm: algorithm, kid: keyID)
        }
    }

    /// A `kid` for a shared secret that reveals nothing usable about it: 16 hex digits of an HMAC under the
    /// secret itself, so the same secret always gets the same `kid`.
    public static func keyID(forSecret secret: [UInt8]) -> String {
        "hs256-" + Digest.hex(HMAC.authenticationCode(for: Array("story-portal kid".utf8), key: secret).prefix(8))
    }

    /// A `kid` for a private key: 16 hex digits of the SHA-256 of its public key's PEM text.
    /// - Throws: `JWTError` (`invalid_key`) when the public half cannot be written.
    public static func keyID(forPrivateKeyPEM pem: String) throws(JWTError) -> String {
        guard let key = try? PrivateKey(pem: pem), let text = try? key.publicKey().pemRepresentation() else {
            throw JWTError(.invalidKey, "not a private key")
        }
        return "es256-" + Digest.hex(Digest.sha256(Array(text.utf8)).prefix(8))
    }

    /// The compact JWS of `claims`.
    /// - Throws: `JWTError` (`invalid_key`) if OpenSSL fails to sign.
    public func sign(_ claims: JWTClaims) throws(JWTError) -> String {
        var header: [UInt8] = Array(#"{"alg":"#.utf8)
        JSONEscaping.appendQuoted(algorithm.rawValue, to: &header)
        header += Array(#","typ":"JWT""#.utf8)
        if let keyID { append(",\"kid\":", keyID, to: &header) }
        header.append(UInt8(ascii: "}"))

        var payload: [UInt8] = [UInt8(ascii: "{")]
        if let issuer = claims.issuer { append("\"iss\":", issuer, ",", to: &payload) }
        append("\"sub\":", claims.subject, to: &payload)
        if let audience = claims.audience { append(",\"aud\":", audience, to: &payload) }
        append(",\"scope\":", claims.scopes.joined(separator: " "), to: &payload)
        if !claims.roles.isEmpty {
            payload += Array(",\"roles\":[".utf8)
            for (index, role) in claims.roles.enumerated() {
                if index > 0 { payload.append(UInt8(ascii: ",")) }
                JSONEscaping.appendQuoted(role, to: &payload)
            }
            payload.append(UInt8(ascii: "]"))
        }
        if let clientID = claims.clientID { append(",\"client_id\":", clientID, to: &payload) }
        payload += Array(",\"iat\":\(claims.issuedAt),\"exp\":\(claims.expiresAt)".utf8)
        append(",\"jti\":", claims.jwtID, "}", to: &payload)

        var token = Base64URL.encodeToBytes(header)
        token.append(UInt8(ascii: "."))
        Base64URL.appendEncoded(payload, to: &token)
        let signature: [UInt8]
        switch material {
        case .secret(let secret):
            signature = HMAC.authenticationCode(for: token, key: secret, using: .sha256)
        case .privateKey(let key):
            guard let raw = try? key.ecdsaSignature(for: token, digest: .sha256) else {
                throw JWTError(.invalidKey, "signing failed")
            }
            signature = raw
        }
        token.append(UInt8(ascii: "."))
        Base64URL.appendEncoded(signature, to: &token)
        return String(decoding: token, as: UTF8.self)
    }

    private func append(_ prefix: String, _ value: String, _ suffix: String = "", to out: inout [UInt8]) {
        out += Array(prefix.utf8)
        JSONEscaping.appendQuoted(value, to: &out)
        out += Array(suffix.utf8)
    }
}
