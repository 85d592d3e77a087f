import Auth
import Crypto
import PortalCore
import Testing

@Suite("JWTVerifier")
struct JWTVerifierTests {
    static let now: Int64 = 1_767_225_600
    let clock = ManualClock(unixSeconds: JWTVerifierTests.now)

    func verifier(
        keys: [JWTVerifier.Key]? = nil, issuer: String? = "iss-a", audience: String? = "aud-a"
    ) throws -> JWTVerifier {
        let keys = try keys ?? [JWTVerifier.Key.hmac(secret: TokenForge.secret)]
        return JWTVerifier(
            keys: keys, configuration: .init(issuer: issuer, audience: audience, leewaySeconds: 60), clock: clock)
    }

    func claims(_ extra: String = "", exp: String = "\(now + 600)") -> String {
        #"{"iss":"iss-a","aud":"aud-a","sub":"alice","exp":\#(exp)\#(extra)}"#
    }

    func reason(_ token: String, _ verifier: JWTVerifier) -> String? {
        do {
            _ = try verifier.verify(token)
            return nil
        } catch {
            return error.reason
        }
    }

    @Test("accepts a good token and reports subject, scopes, roles, jti, expiry, issuer and kid")
    func acceptsGoodToken() throws {
        let extra = #","scope":"events:read  events:write","scp":["admin","events:read"],"roles":["ops"],"jti":"j1""#
        let payload = claims(extra + ",\"iat\":\(Self.now)")
        let token = TokenForge.hs256(header: #"{"alg":"HS256","kid":"k1"}"#, payload: payload)
        let keys = [try JWTVerifier.Key.hmac(secret: TokenForge.secret, kid: "k1")]
        let verified = try verifier(keys: keys).verify(token)
        #expect(verified.subject == "alice")
        #expect(verified.scopes == ["events:read", "events:write", "admin"])
        #expect(verified.roles == ["ops"])
        #expect(verified.jwtID == "j1" && verified.expiresAt == Self.now + 600 && verified.issuedAt == Self.now)
        #expect(verified.issuer == "iss-a" && verified.keyID == "k1" && verified.algorithm == .hs256)
        #expect(verified.claims["sub"] == .string("alice"))
    }

    @Test(
        "refuses hostile claims with a precise reason",
        arguments: [
            (#"{"iss":"iss-a","aud":"aud-a","exp":"1767226200"}"#, "invalid_claim"),
            (#"{"iss":"iss-a","aud":"aud-a","exp":1767226200.5}"#, "invalid_claim"),
            (#"{"iss":"iss-a","aud":"aud-a","exp":1e400}"#, "invalid_claim"),
            (#"{"iss":"iss-a","aud":"aud-a","exp":99999999999999999999999}"#, "invalid_claim"),
            (#"{"iss":"iss-a","aud":"aud-a","exp":-9223372036854775808}"#, "expired"),
            (#"{"iss":"iss-a","aud":"aud-a","exp":null}"#, "invalid_claim"),
            (#"{"iss":"iss-a","aud":"aud-a"}"#, "missing_claim"),
            (#"{"iss":"iss-a","aud":[],"exp":1767226200}"#, "bad_audience"),
            (#"{"iss":"iss-a","aud":[1],"exp":1767226200}"#, "invalid_claim"),
            (#"{"iss":"iss-a","aud":{"x":1},"exp":1767226200}"#, "invalid_claim"),
            (#"{"iss":"iss-b","aud":"aud-a","exp":1767226200}"#, "bad_issuer"),
            (#"{"aud":"aud-a","exp":1767226200}"#, "missing_claim"),
            (#"{"iss":7,"aud":"aud-a","exp":1767226200}"#, "invalid_claim"),
            (#"{"iss":"iss-a","aud":"aud-a","exp":1767226200,"sub":5}"#, "invalid_claim"),
            (#"{"iss":"iss-a","aud":"aud-a","exp":1767226200,"roles":"ops","scp":[1]}"#, "invalid_claim"),
            (#"{"iss":"iss-a","aud":"aud-a","exp":1767226200,"iat":1767229200}"#, "not_yet_valid"),
            (#"{"iss":"iss-a","aud":"aud-a","exp":1767226200,"exp":1767226200}"#, "malformed"),
            ("\u{FEFF}" + #"{"iss":"iss-a","aud":"aud-a","exp":1767226200}"#, "malformed"),
            (#"[{"iss":"iss-a"}]"#, "malformed"),
            (String(repeating: "[", count: 3000) + String(repeating: "]", count: 3000), "malformed"),
        ])
    func refusesHostileClaims(payload: String, expected: String) throws {
        #expect(reason(TokenForge.hs256(payload: payload), try verifier()) == expected)
    }

    @Test("honours exp, nbf and iat at the leeway boundary, to the second")
    func leewayBoundaries() throws {
        let verifier = try verifier()
        let now = Self.now
        // Accepted while now - 60 < exp.
        #expect(reason(TokenForge.hs256(payload: claims(exp: "\(now - 59)")), verifier) == nil)
        #expect(reason(TokenForge.hs256(payload: claims(exp: "\(now - 60)")), verifier) == "expired")
        #expect(reason(TokenForge.hs256(payload: claims(",\"nbf\":\(now + 60)")), verifier) == nil)
        #expect(reason(TokenForge.hs256(payload: claims(",\"nbf\":\(now + 61)")), verifier) == "not_yet_valid")
        #expect(reason(TokenForge.hs256(payload: claims(",\"iat\":\(now + 61)")), verifier) == "not_yet_valid")
        #expect(reason(TokenForge.hs256(payload: claims(exp: "\(Int64.max)")), verifier) == nil)
        clock.advance(seconds: 1)
        #expect(reason(TokenForge.hs256(payload: claims(exp: "\(now - 59)")), verifier) == "expired")
    }

    @Test(
        "refuses hostile headers and structure before trusting anything",
        arguments: [
            (#"{"alg":"none"}"#, "alg_not_allowed"), (#"{"alg":"nOnE"}"#, "alg_not_allowed"),
            (#"{"alg":"HS256","jku":"https://evil/jwks"}"#, "forbidden_header"),
            (#"{"alg":"HS256","x5u":"https://evil/cert"}"#, "forbidden_header"),
            (#"{"alg":"HS256","jwk":{"kty":"oct","k":"AA"}}"#, "forbidden_header"),
            (#"{"alg":"HS256","x5c":["MII"]}"#, "forbidden_header"),
            (#"{"alg":"HS256","crit":["exp"],"exp":1}"#, "forbidden_header"),
            (#"{"alg":"HS256","crit":[]}"#, "forbidden_header"),
            (#"{"alg":"HS256","alg":"HS256"}"#, "malformed"), (#"{"alg":7}"#, "malformed"), (#"{}"#, "malformed"),
            (#"{"alg":"HS256","kid":7}"#, "malformed"), (#"{"alg":"HS256","kid":"nope"}"#, "unknown_key"),
            (#"{"alg":"HS256","kid":"../../etc/passwd"}"#, "unknown_key"), (#"{"alg":"HS999"}"#, "alg_not_allowed"),
            (#"{"alg":"RS256"}"#, "alg_not_allowed"), (#"{"alg":"hs256"}"#, "alg_not_allowed"),
            (#"["HS256"]"#, "malformed"),
        ])
    func refusesHostileHeaders(header: String, expected: String) throws {
        let token = TokenForge.hs256(header: header, payload: claims())
        #expect(reason(token, try verifier()) == expected)
    }

    @Test("refuses bad framing: segments, encodings, size; exactly 16 KiB passes the size check")
    func refusesBadFraming() throws {
        let verifier = try verifier()
        let good = TokenForge.hs256(payload: claims())
        let parts = good.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let hostile: [(String, String)] = [
            ("", "malformed"), ("a.b", "malformed"), (good + ".", "malformed"), (good + ".x.y", "malformed"),
            (parts[0] + "=." + parts[1] + "." + parts[2], "malformed"),
            (parts[0] + "." + parts[1] + "." + parts[2] + "=", "malformed"),
            (parts[0] + "." + parts[1] + ".+" + parts[2].dropFirst(), "malformed"),
            (parts[0] + "." + parts[1] + "./" + parts[2].dropFirst(), "malformed"),
            (parts[0] + "." + parts[1] + ". " + parts[2], "malformed"),
            (parts[0] + "." + parts[1] + ".", "bad_signature"),
            (String(repeating: "a", count: 16 * 1024 + 1), "too_large"),
        ]
        for (token, expected) in hostile {
            #expect(reason(token, verifier) == expected, "\(token.prefix(40))")
        }
        let padded = claims(",\"pad\":\"" + String(repeating: "p", count: 11_000) + "\"")
        let big = TokenForge.hs256(payload: padded)
        #expect(big.utf8.count <= 16 * 1024 && reason(big, verifier) == nil)
        #expect(reason(good, try self.verifier(keys: [], issuer: nil, audience: nil)) == "unknown_key")
        #expect(reason(big + String(repeating: "A", count: 16 * 1024), verifier) == "too_large")
        #expect(throws: JWTError.self) { try verifier.verify(bytes: Array(repeating: 0x2E, count: 3)) }
    }

    @Test("a kid naming a key of another algorithm is refused: the header never re-purposes a key")
    func kidOfAnotherAlgorithm() throws {
        let ecKey = try PrivateKey.generate(.ec(.p256))
        let keys = [
            try JWTVerifier.Key.publicKey(try ecKey.publicKey(), algorithm: .es256, kid: "ec"),
            try JWTVerifier.Key.hmac(secret: TokenForge.secret, kid: "hs"),
        ]
        let verifier = try verifier(keys: keys)
        let token = TokenForge.hs256(header: #"{"alg":"HS256","kid":"ec"}"#, payload: claims())
        #expect(reason(token, verifier) == "alg_not_allowed")
        let right = TokenForge.hs256(header: #"{"alg":"HS256","kid":"hs"}"#, payload: claims())
        #expect(reason(right, verifier) == nil)
    }

    @Test("an RSA public key PEM used as an HMAC secret never verifies against the RS256 key")
    func rsaPEMAsHMACSecret() throws {
        let rsa = try PrivateKey.generate(.rsa(bits: 2048))
        let publicKey = try rsa.publicKey()
        let keys = [try JWTVerifier.Key.publicKey(publicKey, algorithm: .rs256, kid: "rsa")]
        let pem = Array("-----BEGIN PUBLIC KEY-----\nconfusion\n-----END PUBLIC KEY-----\n".utf8)
        for header in [#"{"alg":"HS256","kid":"rsa"}"#, #"{"alg":"HS256"}"#] {
            let token = TokenForge.hs256(header: header, payload: claims(), secret: pem)
            #expect(reason(token, try verifier(keys: keys)) == "alg_not_allowed")
        }
        #expect(throws: JWTError.self) { try JWTVerifier.Key.publicKey(publicKey, algorithm: .es256) }
        #expect(throws: JWTError.self) { try JWTVerifier.Key.hmac(secret: Array(repeating: 1, count: 31)) }
        #expect(throws: JWTError.self) { try JWTVerifier.Key.hmac(secret: TokenForge.secret, algorithm: .rs256) }
    }

    @Test("errors and key descriptions never contain the token or the secret")
    func noSecretsInDescriptions() throws {
        let token = TokenForge.hs256(payload: claims(exp: "1"))
        let key = try JWTVerifier.Key.hmac(secret: TokenForge.secret, kid: "k")
        let verifier = try verifier(keys: [key])
        do {
            _ = try verifier.verify(token)
            Issue.record("expired token accepted")
        } catch {
            let text = "\(error) \(String(reflecting: error))"
            #expect(!text.contains(token.prefix(20)) && !text.contains("alice"))
            #expect(error.reason == "expired")
        }
        let keyText = "\(key) \(String(reflecting: key))"
        #expect(!keyText.contains("an-hs256") && !keyText.contains(Base64URL.encode(TokenForge.secret).prefix(12)))
    }
}
