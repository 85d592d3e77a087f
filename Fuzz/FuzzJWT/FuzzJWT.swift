import Auth
import Crypto
import FuzzSupport
import PortalCore

/// Fuzzes token handling: `JWTVerifier.verify(bytes:)` with an HS256 key, `JSONParser`, and `Base64URL`.
///
/// Every input is tried four ways:
/// 1. as a compact token, verified as received (reaches splitting, base64url and header parsing);
/// 2. signed by the harness with the verifier's own key, header and claims taken from the input (split at the
///    first newline; without one, the input is the claims under a fixed header), so that claim parsing and
///    checking are reached although the fuzzer cannot forge an HMAC;
/// 3. as JSON text;
/// 4. as base64url text to decode, and as bytes that must survive `encode` then `decode` unchanged.
enum JWTHarness {
    /// The `hs-1` key of `Tests/Vectors/jwt-verification.json`.
    static let secret = Base64URL.decode("azN5LWZvci1oczI1Ni10ZXN0cy0wMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OQ") ?? []
    static let verifier: JWTVerifier = {
        let keys = (try? JWTVerifier.Key.hmac(secret: secret, algorithm: .hs256, kid: "hs-1")).map { [$0] } ?? []
        let configuration = JWTVerifier.Configuration(
            issuer: "https://auth.story-portal.test", audience: "story-portal-gateway", leewaySeconds: 60)
        return JWTVerifier(keys: keys, configuration: configuration, clock: ManualClock(unixSeconds: 1_767_225_600))
    }()
    static let defaultHeader = Array(#"{"alg":"HS256","typ":"JWT","kid":"hs-1"}"#.utf8)

    static func run(_ input: UnsafeRawBufferPointer) {
        FuzzCheck.expect(!verifier.keys.isEmpty, "the harness key was refused")
        let bytes = Array(input)
        _ = try? verifier.verify(bytes: bytes)
        _ = try? verifier.verify(bytes: signedToken(bytes))
        _ = try? JSONParser().parse(input)
        _ = Base64URL.decode(input)
        let encoded = Base64URL.encodeToBytes(bytes)
        FuzzCheck.expect(Base64URL.decode(encoded) == bytes, "base64url round trip changed the bytes")
    }

    /// A token over header and claims from `bytes`, signed with the verifier's key.
    static func signedToken(_ bytes: [UInt8]) -> [UInt8] {
        var header = defaultHeader
        var claims = bytes
        if let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) {
            header = Array(bytes[..<newline])
            claims = Array(bytes[(newline + 1)...])
        }
        var token = Base64URL.encodeToBytes(header)
        token.append(UInt8(ascii: "."))
        Base64URL.appendEncoded(claims, to: &token)
        let signature = HMAC.authenticationCode(for: token, key: secret, using: .sha256)
        token.append(UInt8(ascii: "."))
        Base64URL.appendEncoded(signature, to: &token)
        return token
    }
}

/// libFuzzer in a fuzzing build, a replay of the argument files otherwise (see `FuzzEntry`).
@main
enum FuzzJWTMain {
    static func main() {
        FuzzEntry.main(JWTHarness.run)
    }
}
