import Crypto
import PortalCore

/// Verification keys read from a JWKS document (RFC 7517): `{"keys": [ ... ]}`.
///
/// Each usable key becomes a `JWTVerifier.Key` pinned to its `alg`, which is therefore required.
/// Keys are skipped, with a reason, when `alg` is missing or unsupported, when `use` is not `sig`,
/// when `key_ops` lacks `verify`, or when their material does not suit their `alg` (including RSA
/// under 2048 bits). Supported: `oct` (HS*), `RSA` (RS*, PS*), `EC` P-256/P-384 (ES256/ES384),
/// `OKP` Ed25519 (EdDSA). This is start-up code: it does not need to be fast.
public struct JWKSet: Sendable {
    /// A key that was left out, by its position in `keys` and a short constant reason.
    public struct SkippedKey: Sendable, Equatable {
        public let index: Int
        public let reason: String
    }

    /// The usable keys, in document order.
    public let keys: [JWTVerifier.Key]
    /// The keys left out, and why.
    public let skipped: [SkippedKey]

    /// Parses a JWKS document.
    /// - Throws: `JWTError` (`malformed`) when the document is not JSON with a `keys` array of objects.
    public init(json bytes: [UInt8]) throws(JWTError) {
        guard let document = try? JSONParser().parse(bytes), let entries = document["keys"]?.arrayValue else {
            throw JWTError(.malformed, "JWKS document")
        }
        var keys: [JWTVerifier.Key] = []
        var skipped: [SkippedKey] = []
        for (index, entry) in entries.enumerated() {
            guard let object = entry.objectValue else { throw JWTError(.malformed, "JWKS entry") }
            switch Self.key(from: object) {
            case .success(let key): keys.append(key)
            case .failure(let reason): skipped.append(SkippedKey(index: index, reason: reason.text))
            }
        }
        self.keys = keys
        self.skipped = skipped
    }

    struct Skip: Error {
        let text: String
        init(_ text: String) { self.text = text }
    }

    static func key(from jwk: JSONObject) -> Result<JWTVerifier.Key, Skip> {
        guard let algName = jwk["alg"]?.stringValue else { return .failure(Skip("no alg")) }
        guard let algorithm = JWTAlgorithm(rawValue: algName) else { return .failure(Skip("unsupported alg")) }
        if let use = jwk["use"], use.stringValue != "sig" { return .failure(Skip("use is not sig")) }
        if let operations = jwk["key_ops"] {
            guard let list = operations.arrayValue, list.contains(.string("verify")) else {
                return .failure(Skip("key_ops lacks verify"))
            }
        }
        let kid = jwk["kid"]?.stringValue
        do {
            return .success(try material(jwk, algorithm: algorithm, kid: kid))
        } catch let skip as Skip {
            return .failure(skip)
        } catch {
            return .failure(Skip("key does not suit alg"))
        }
    }

    private static func material(_ jwk: JSONObject, algorithm: JWTAlgorithm, kid: String?) throws -> JWTVerifier.Key {
        func bytes(_ name: String) throws -> [UInt8] {
            guard let text = jwk[name]?.stringValue, let value = Base64URL.decode(text) else {
                throw Skip("bad \(name)")
            }
            return value
        }
        let kty = jwk["kty"]?.stringValue
        let publicKey: PublicKey
        switch (kty, algorithm.publicKeyKind) {
        case ("oct", nil):
            return try JWTVerifier.Key.hmac(secret: try bytes("k"), algorithm: algorithm, kid: kid)
        case ("RSA", .rsa?):
            // An even exponent or one under 3 (e = 1 makes every message its own signature) is no RSA key.
            let exponent = try bytes("e")
            guard let last = exponent.last, last & 1 == 1, exponent.contains(where: { $0 != 0 }),
                exponent.drop(while: { $0 == 0 }).count > 1 || last >= 3
            else { throw Skip("bad e") }
            publicKey = try PublicKey.rsa(modulus: try bytes("n"), exponent: exponent)
        case ("EC", .ec(let curve)?):
            let expected = curve == .p256 ? "P-256" : "P-384"
            guard jwk["crv"]?.stringValue == expected else { throw Skip("crv does not suit alg") }
            publicKey = try PublicKey.ec(curve: curve, x: try bytes("x"), y: try bytes("y"))
        case ("OKP", .ed25519?):
            guard jwk["crv"]?.stringValue == "Ed25519" else { throw Skip("crv does not suit alg") }
            publicKey = try PublicKey.ed25519(try bytes("x"))
        default:
            throw Skip("kty does not suit alg")
        }
        return try JWTVerifier.Key.publicKey(publicKey, algorithm: algorithm, kid: kid)
    }
}
