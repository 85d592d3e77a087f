import Auth
import Crypto
import PortalCore
import Testing
import VectorTestSupport

@Suite("JWKSet")
struct JWKSetTests {
    func parse(_ text: String) throws -> JWKSet { try JWKSet(json: Array(text.utf8)) }

    @Test("keeps usable keys pinned to their alg and skips the rest with a reason")
    func skipsUnusableKeys() throws {
        let secret = Base64URL.encode([UInt8](repeating: 9, count: 32))
        let document = """
            {"keys":[
             {"kty":"oct","k":"\(secret)","alg":"HS256","kid":"a"},
             {"kty":"oct","k":"\(secret)","kid":"no-alg"},
             {"kty":"oct","k":"\(secret)","alg":"HS256","use":"enc"},
             {"kty":"oct","k":"\(secret)","alg":"HS256","key_ops":["sign"]},
             {"kty":"oct","k":"\(secret)","alg":"none"},
             {"kty":"oct","k":"AAAA","alg":"HS256"},
             {"kty":"oct","k":"\(secret)","alg":"RS256"},
             {"kty":"RSA","n":"AQAB","e":"AQAB","alg":"RS256"},
             {"kty":"EC","crv":"P-384","x":"AA","y":"AA","alg":"ES256"},
             {"kty":"EC","crv":"P-256","x":"\(String(repeating: "A", count: 43))","y":"AA","alg":"ES256"},
             {"kty":"OKP","crv":"X25519","x":"\(String(repeating: "A", count: 43))","alg":"EdDSA"},
             {"kty":"oct","k":"\(secret)=","alg":"HS256"}
            ]}
            """
        let set = try parse(document)
        #expect(set.keys.count == 1)
        #expect(set.keys.first?.algorithm == .hs256 && set.keys.first?.keyID == "a")
        #expect(set.skipped.map(\.index) == Array(1...11))
        #expect(set.skipped.first?.reason == "no alg")
    }

    @Test(
        "refuses documents that are not a JWKS",
        arguments: [
            "", "[]", #"{"keys":{}}"#, #"{"keys":[1]}"#, #"{"keys":[],"keys":[]}"#, #"{"nokeys":[]}"#,
        ])
    func refusesNonJWKS(text: String) {
        #expect(throws: JWTError.self) { try parse(text) }
    }

    @Test("an RSA key with an exponent of 1, an even one or zero is skipped; 3 and 65537 are kept")
    func rsaExponent() throws {
        let document = try JSONParser().parse(try VectorFiles.read("jwt-verification.json"))
        let keys = try #require(document["jwks"]?["keys"]?.arrayValue)
        let rsa = try #require(keys.first { $0["kty"]?.stringValue == "RSA" })
        let modulus = try #require(rsa["n"]?.stringValue)
        let exponents = [("AQ", false), ("AAE", false), ("Ag", false), ("AA", false), ("Aw", true), ("AQAB", true)]
        for (exponent, usable) in exponents {
            let set = try parse(#"{"keys":[{"kty":"RSA","alg":"RS256","n":"\#(modulus)","e":"\#(exponent)"}]}"#)
            #expect(set.keys.count == (usable ? 1 : 0), "e=\(exponent)")
        }
    }
}
