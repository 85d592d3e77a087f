import Auth
import Crypto
import PortalCore
import Testing

@Suite("JWTSigner")
struct JWTSignerTests {
    let clock = ManualClock(unixSeconds: 1_767_225_600)

    func claims() -> JWTClaims {
        JWTClaims(
            subject: "bob \"quoted\"", scopes: ["events:read", "events:write"], issuedAt: 1_767_225_600,
            expiresAt: 1_767_229_200, jwtID: "id-1", issuer: "https://issuer", audience: "portal")
    }

    @Test("HS256 tokens round-trip through the verifier with every claim intact")
    func hs256RoundTrip() throws {
        let secret = SecureRandom.bytes(count: 32)
        let signer = try JWTSigner.hs256(secret: secret, kid: "k1")
        let token = try signer.sign(claims())
        let header = try JSONParser().parse(Base64URL.decode(String(token.prefix { $0 != "." })) ?? [])
        #expect(header.serialized() == Array(#"{"alg":"HS256","typ":"JWT","kid":"k1"}"#.utf8))
        let verifier = JWTVerifier(
            keys: [try .hmac(secret: secret, kid: "k1")],
            configuration: .init(issuer: "https://issuer", audience: "portal"), clock: clock)
        let verified = try verifier.verify(token)
        #expect(verified.subject == "bob \"quoted\"" && verified.scopes == ["events:read", "events:write"])
        #expect(verified.jwtID == "id-1" && verified.expiresAt == 1_767_229_200 && verified.issuedAt == 1_767_225_600)
        let other = JWTVerifier(keys: [try .hmac(secret: SecureRandom.bytes(count: 32), kid: "k1")], clock: clock)
        #expect { try other.verify(token) } throws: { ($0 as? JWTError)?.reason == "bad_signature" }
        #expect(throws: JWTError.self) { try JWTSigner.hs256(secret: Array(repeating: 1, count: 31)) }
    }

    @Test("ES256 tokens from a PEM key verify with its public key and not with another")
    func es256RoundTrip() throws {
        let key = try PrivateKey.generate(.ec(.p256))
        let signer = try JWTSigner.es256(privateKeyPEM: try key.pemRepresentation())
        let token = try signer.sign(claims())
        let good = JWTVerifier(keys: [try .publicKey(try key.publicKey(), algorithm: .es256)], clock: clock)
        #expect(try good.verify(token).algorithm == .es256)
        let stranger = try PrivateKey.generate(.ec(.p256)).publicKey()
        let bad = JWTVerifier(keys: [try .publicKey(stranger, algorithm: .es256)], clock: clock)
        #expect(throws: JWTError.self) { try bad.verify(token) }
        let edPEM = try PrivateKey.generate(.ed25519).pemRepresentation()
        #expect(throws: JWTError.self) { try JWTSigner.es256(privateKeyPEM: edPEM) }
        #expect(throws: JWTError.self) { try JWTSigner.es256(privateKeyPEM: "not a pem") }
        #expect(!"\(signer)".contains("PRIVATE"))
    }
}
