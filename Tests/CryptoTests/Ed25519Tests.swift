import Crypto
import Testing

@Suite("Ed25519")
struct Ed25519Tests {
    @Test("verifies every Wycheproof Ed25519 case")
    func wycheproof() throws {
        let file = try Wycheproof("ed25519_test.json")
        var ran = 0
        for group in file.groups {
            let raw = try Wycheproof.hex(try #require(group["publicKey"]?["pk"]?.stringValue))
            let key = try PublicKey.ed25519(raw)
            for test in group["tests"]?.arrayValue ?? [] {
                let item = Wycheproof.Case(group: group, test: test)
                item.expect(key.isValidEd25519Signature(try item.hex("sig"), for: try item.hex("msg")))
                ran += 1
            }
        }
        #expect(ran == file.declaredCount)
    }

    @Test("signs and verifies; refuses other messages, other keys and wrong key lengths")
    func signRoundTrip() throws {
        let key = try PrivateKey.generate(.ed25519)
        let signature = try key.ed25519Signature(for: Array("abc".utf8))
        #expect(signature.count == 64)
        let publicKey = try key.publicKey()
        #expect(publicKey.kind == .ed25519)
        #expect(publicKey.isValidEd25519Signature(signature, for: Array("abc".utf8)))
        #expect(!publicKey.isValidEd25519Signature(signature, for: Array("abd".utf8)))
        let stranger = try PrivateKey.generate(.ed25519).publicKey()
        #expect(!stranger.isValidEd25519Signature(signature, for: Array("abc".utf8)))
        #expect(throws: CryptoError.self) { try PublicKey.ed25519([UInt8](repeating: 1, count: 31)) }
        #expect(throws: CryptoError.self) { try key.ecdsaSignature(for: [1], digest: .sha256) }
    }
}
