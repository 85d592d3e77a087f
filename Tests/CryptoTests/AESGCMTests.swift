import Crypto
import Testing

@Suite("AESGCM")
struct AESGCMTests {
    @Test("matches every Wycheproof AES-GCM case: seal reproduces valid ones, open refuses invalid ones")
    func wycheproof() throws {
        let file = try Wycheproof("aes_gcm_test.json")
        let cases = file.cases
        #expect(cases.count == file.declaredCount)
        for item in cases {
            let key = try item.hex("key"), nonce = try item.hex("iv"), aad = try item.hex("aad")
            let message = try item.hex("msg"), ciphertext = try item.hex("ct"), tag = try item.hex("tag")
            let box = AESGCM.SealedBox(nonce: nonce, ciphertext: ciphertext, tag: tag)
            // Nonces past OpenSSL's 128-byte limit are refused by design; they must say so, not pass.
            if nonce.count > AESGCM.nonceByteCounts.upperBound {
                #expect { try AESGCM.open(box, key: key, authenticating: aad) } throws: {
                    ($0 as? CryptoError)?.reason == "invalid_input"
                }
                continue
            }
            let opened = try? AESGCM.open(box, key: key, authenticating: aad)
            item.expect(opened == message)
            if item.result == "valid" {
                let sealed = try AESGCM.seal(message, key: key, nonce: nonce, authenticating: aad)
                #expect(sealed == box, "tcId \(item.id)")
            }
        }
    }

    @Test("round-trips with a random nonce and refuses any altered byte, wrong key or wrong data")
    func roundTrip() throws {
        let key = SecureRandom.bytes(count: 32)
        let box = try AESGCM.seal(Array("secret".utf8), key: key, authenticating: [1, 2])
        #expect(box.nonce.count == 12)
        #expect(try AESGCM.open(box, key: key, authenticating: [1, 2]) == Array("secret".utf8))
        var tampered = box.ciphertext
        tampered[0] ^= 1
        let altered = [
            AESGCM.SealedBox(nonce: box.nonce, ciphertext: tampered, tag: box.tag),
            AESGCM.SealedBox(nonce: box.nonce, ciphertext: box.ciphertext, tag: Array(box.tag.dropLast())),
        ]
        for bad in altered {
            #expect(throws: CryptoError.self) { try AESGCM.open(bad, key: key, authenticating: [1, 2]) }
        }
        #expect(throws: CryptoError.self) { try AESGCM.open(box, key: key, authenticating: [1]) }
        let otherKey = SecureRandom.bytes(count: 32)
        #expect(throws: CryptoError.self) { try AESGCM.open(box, key: otherKey, authenticating: [1, 2]) }
        #expect(throws: CryptoError.self) { try AESGCM.seal([1], key: [UInt8](repeating: 0, count: 20)) }
        #expect(throws: CryptoError.self) { try AESGCM.seal([1], key: key, nonce: []) }
    }
}
