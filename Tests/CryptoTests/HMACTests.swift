import Crypto
import Testing

@Suite("HMAC")
struct HMACTests {
    @Test("matches every Wycheproof HMAC-SHA256 case, truncated tags compared as prefixes")
    func wycheproof() throws {
        let file = try Wycheproof("hmac_sha256_test.json")
        let cases = file.cases
        #expect(cases.count == file.declaredCount)
        for item in cases {
            let key = try item.hex("key"), message = try item.hex("msg"), tag = try item.hex("tag")
            let full = HMAC.authenticationCode(for: message, key: key, using: .sha256)
            let accepted =
                !tag.isEmpty && tag.count <= full.count
                && ConstantTime.equals(Array(full.prefix(tag.count)), tag)
            item.expect(accepted)
            if tag.count == full.count {
                #expect(HMAC.isValidAuthenticationCode(tag, for: message, key: key) == accepted, "tcId \(item.id)")
            }
            // The prepared key must agree with the one-shot function on every case, including repeated use.
            let prepared = HMACKey(secret: key, using: .sha256)
            #expect(prepared.authenticationCode(for: message) == full, "tcId \(item.id)")
            #expect(prepared.authenticationCode(for: message) == full, "tcId \(item.id), second use")
        }
    }

    @Test("RFC 4231 case 2 for SHA-256, -384 and -512")
    func rfc4231() {
        let key = Array("Jefe".utf8), message = Array("what do ya want for nothing?".utf8)
        for algorithm in [DigestAlgorithm.sha256, .sha384, .sha512] {
            #expect(
                HMACKey(secret: key, using: algorithm).authenticationCode(for: message)
                    == HMAC.authenticationCode(for: message, key: key, using: algorithm))
        }
        #expect(
            Digest.hex(HMAC.authenticationCode(for: message, key: key, using: .sha256))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        let sha384 = HMAC.authenticationCode(for: message, key: key, using: .sha384)
        let sha512 = HMAC.authenticationCode(for: message, key: key, using: .sha512)
        #expect(Digest.hex(sha384).hasPrefix("af45d2e376484031"))
        #expect(Digest.hex(sha512).hasPrefix("164b7a7bfcf819e2"))
    }

    @Test("verification refuses truncated, extended, empty and flipped codes")
    func refusesAlteredCodes() {
        let key = [UInt8](repeating: 7, count: 32), message = Array("m".utf8)
        let good = HMAC.authenticationCode(for: message, key: key)
        #expect(HMAC.isValidAuthenticationCode(good, for: message, key: key))
        var flipped = good
        flipped[31] ^= 1
        for bad in [Array(good.prefix(16)), good + [0], [], flipped] {
            #expect(!HMAC.isValidAuthenticationCode(bad, for: message, key: key))
        }
        #expect(HMAC.authenticationCode(for: message, key: [UInt8]()).count == 32)
    }
}
