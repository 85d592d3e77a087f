import Crypto
import Foundation
import PortalCore
import Testing

/// Signing keys made for a test and their public halves as JWKS entries.
struct TestSigningKeys {
    let ec: PrivateKey
    let ed: PrivateKey
    let hmac = SecureRandom.bytes(count: 32)

    init() throws {
        ec = try PrivateKey.generate(.ec(.p256))
        ed = try PrivateKey.generate(.ed25519)
    }

    /// The last `count` bytes of the DER inside a public key's PEM: the raw point or key for EC and Ed25519.
    private static func rawPublic(_ key: PrivateKey, count: Int) throws -> [UInt8] {
        let pem = try key.publicKey().pemRepresentation()
        let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        return Array(try #require(Data(base64Encoded: body)).suffix(count))
    }

    /// `{"keys": [...]}` with an ES256 key `ec-1`, an EdDSA key `ed-1` and an HS256 key `oct-1`.
    func jwks() throws -> String {
        let point = try Self.rawPublic(ec, count: 65)
        let x = Base64URL.encode(point[1..<33])
        let y = Base64URL.encode(point[33...])
        let edX = Base64URL.encode(try Self.rawPublic(ed, count: 32))
        return """
            {"keys": [
              {"kty": "EC", "crv": "P-256", "x": "\(x)", "y": "\(y)", "alg": "ES256", "kid": "ec-1", "use": "sig"},
              {"kty": "OKP", "crv": "Ed25519", "x": "\(edX)", "alg": "EdDSA", "kid": "ed-1"},
              {"kty": "oct", "k": "\(Base64URL.encode(hmac))", "alg": "HS256", "kid": "oct-1"}
            ]}
            """
    }

    /// A compact JWS over `header` and `payload`, signed as `header`'s `alg` says with the matching key.
    func sign(header: String, payload: String, with signer: Signer) throws -> String {
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
        let bytes = Array(input.utf8)
        let signature: [UInt8]
        switch signer {
        case .ec: signature = try ec.ecdsaSignature(for: bytes, digest: .sha256)
        case .ed: signature = try ed.ed25519Signature(for: bytes)
        case .hmac(let key): signature = HMAC.authenticationCode(for: bytes, key: key)
        case .none: signature = []
        }
        return input + "." + Base64URL.encode(signature)
    }

    enum Signer {
        case ec, ed, none
        case hmac([UInt8])
    }
}

@Suite("portal serve with JWKS_FILE, JWT_ISSUER and JWT_AUDIENCE")
struct JWKSFileServeTests {
    @Test("tokens signed by the file's keys pass; none, confusion, kid swaps, wrong claims and expiry get 401")
    func jwksFile() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let keys = try TestSigningKeys()
        let jwksPath = dir.appendingPathComponent("jwks.json")
        try keys.jwks().write(to: jwksPath, atomically: true, encoding: .utf8)
        var env = PortalProcess.baseEnvironment(dataDirectory: dir)
        env["JWKS_FILE"] = jwksPath.path
        env["JWT_ISSUER"] = "https://idp.test"
        env["JWT_AUDIENCE"] = "portal-test"
        let portal = try RunningPortal(
            environment: env, directory: dir, expectedListeners: ["gateway", "admin", "data layer"])
        defer { _ = portal.terminate() }
        let url = "http://127.0.0.1:\(try #require(portal.ports["gateway"]))/api/v1/events"

        let now = Int(Date().timeIntervalSince1970)
        func claims(iss: String = "https://idp.test", aud: String = "portal-test", exp: Int? = nil) -> String {
            #"{"iss":"\#(iss)","aud":"\#(aud)","sub":"svc-1","scope":"events:read","#
                + #""iat":\#(now),"exp":\#(exp ?? now + 600)}"#
        }
        let ecPublicPEM = Array(try keys.ec.publicKey().pemRepresentation().utf8)
        let valid: [(String, String)] = [
            ("ES256", try keys.sign(header: #"{"alg":"ES256","kid":"ec-1"}"#, payload: claims(), with: .ec)),
            ("EdDSA", try keys.sign(header: #"{"alg":"EdDSA","kid":"ed-1"}"#, payload: claims(), with: .ed)),
            (
                "HS256",
                try keys.sign(
                    header: #"{"alg":"HS256","kid":"oct-1"}"#, payload: claims(), with: .hmac(keys.hmac))
            ),
            ("no kid", try keys.sign(header: #"{"alg":"ES256"}"#, payload: claims(), with: .ec)),
        ]
        let refused: [(String, String)] = [
            ("alg none", try keys.sign(header: #"{"alg":"none","kid":"ec-1"}"#, payload: claims(), with: .none)),
            (
                "public key as HMAC secret",
                try keys.sign(
                    header: #"{"alg":"HS256","kid":"ec-1"}"#, payload: claims(), with: .hmac(ecPublicPEM))
            ),
            (
                "EdDSA under the EC kid",
                try keys.sign(
                    header: #"{"alg":"EdDSA","kid":"ec-1"}"#, payload: claims(), with: .ed)
            ),
            (
                "kid traversal",
                try keys.sign(
                    header: #"{"alg":"HS256","kid":"../../dev/null"}"#, payload: claims(), with: .hmac([]))
            ),
            (
                "jwk header",
                try keys.sign(
                    header: #"{"alg":"ES256","jwk":{"kty":"EC"}}"#, payload: claims(), with: .ec)
            ),
            (
                "wrong issuer",
                try keys.sign(
                    header: #"{"alg":"ES256"}"#, payload: claims(iss: "https://evil"), with: .ec)
            ),
            ("wrong audience", try keys.sign(header: #"{"alg":"ES256"}"#, payload: claims(aud: "other"), with: .ec)),
            ("expired", try keys.sign(header: #"{"alg":"ES256"}"#, payload: claims(exp: now - 120), with: .ec)),
        ]
        for (name, token) in valid {
            let response = try Curl.request(["-H", "Authorization: Bearer \(token)", url])
            #expect(response.status == 200, "\(name): \(response.status) \(response.body)")
        }
        for (name, token) in refused {
            let response = try Curl.request(["-H", "Authorization: Bearer \(token)", url])
            #expect(response.status == 401, "\(name): \(response.status)")
        }
    }

    @Test("a JWKS_FILE without a usable key stops start-up with one line naming it")
    func unusableFile() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("jwks.json")
        try #"{"keys": [{"kty": "oct", "k": "c2hvcnQ"}]}"#.write(to: path, atomically: true, encoding: .utf8)
        var env = PortalProcess.baseEnvironment(dataDirectory: dir)
        env["JWKS_FILE"] = path.path
        let outcome = try PortalProcess.run(["serve"], environment: env, in: dir)
        #expect(outcome.status != 0)
        #expect(outcome.stderrLines.count == 1, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("JWKS_FILE") && outcome.stderr.contains("no usable key"), "\(outcome.stderr)")
    }
}
