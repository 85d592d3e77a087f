import Crypto
import Testing

@Suite("ECDSA")
struct ECDSATests {
    @Test(
        "verifies every Wycheproof P1363 case for P-256 and P-384",
        arguments: [
            ("ecdsa_secp256r1_sha256_p1363_test.json", ECCurve.p256),
            ("ecdsa_secp384r1_sha384_p1363_test.json", ECCurve.p384),
        ])
    func wycheproof(file name: String, curve: ECCurve) throws {
        let file = try Wycheproof(name)
        var ran = 0
        for group in file.groups {
            let uncompressed = try Wycheproof.hex(try #require(group["publicKey"]?["uncompressed"]?.stringValue))
            let size = curve.coordinateByteCount
            try #require(uncompressed.count == 1 + 2 * size && uncompressed[0] == 4)
            let key = try PublicKey.ec(
                curve: curve, x: Array(uncompressed[1...size]), y: Array(uncompressed[(size + 1)...]))
            let digest: DigestAlgorithm = group["sha"]?.stringValue == "SHA-384" ? .sha384 : .sha256
            for test in group["tests"]?.arrayValue ?? [] {
                let item = Wycheproof.Case(group: group, test: test)
                let signature = try item.hex("sig"), message = try item.hex("msg")
                item.expect(key.isValidECDSASignature(raw: signature, for: message, digest: digest))
                ran += 1
            }
        }
        #expect(ran == file.declaredCount)
    }

    @Test("signs in raw r||s form that verifies, for both curves; other messages and keys fail")
    func signRoundTrip() throws {
        for curve in [ECCurve.p256, .p384] {
            let key = try PrivateKey.generate(.ec(curve))
            let digest: DigestAlgorithm = curve == .p256 ? .sha256 : .sha384
            let signature = try key.ecdsaSignature(for: Array("hello".utf8), digest: digest)
            #expect(signature.count == 2 * curve.coordinateByteCount)
            let publicKey = try key.publicKey()
            #expect(publicKey.isValidECDSASignature(raw: signature, for: Array("hello".utf8), digest: digest))
            #expect(!publicKey.isValidECDSASignature(raw: signature, for: Array("hellp".utf8), digest: digest))
            let other = try PrivateKey.generate(.ec(curve)).publicKey()
            #expect(!other.isValidECDSASignature(raw: signature, for: Array("hello".utf8), digest: digest))
            let pem = try key.pemRepresentation()
            #expect(try PrivateKey(pem: pem).kind == .ec(curve))
        }
    }

    @Test("refuses psychic signatures: r or s zero or not below n; wrong lengths; points off the curve")
    func refusesEdgeSignatures() throws {
        let key = try PrivateKey.generate(.ec(.p256))
        let publicKey = try key.publicKey()
        let message = Array("m".utf8)
        let good = try key.ecdsaSignature(for: message, digest: .sha256)
        let zero = [UInt8](repeating: 0, count: 32), ones = [UInt8](repeating: 0xFF, count: 32)
        let hostile: [[UInt8]] = [
            zero + zero, zero + Array(good[32...]), Array(good[..<32]) + zero, ones + ones,
            Array(good.dropLast()), good + [0], [], Array(good[..<32]),
        ]
        for signature in hostile {
            #expect(!publicKey.isValidECDSASignature(raw: signature, for: message, digest: .sha256))
        }
        #expect(throws: CryptoError.self) { try PublicKey.ec(curve: .p256, x: ones, y: ones) }
        #expect(throws: CryptoError.self) { try PublicKey.ec(curve: .p256, x: zero, y: zero) }
        #expect(throws: CryptoError.self) { try PublicKey.ec(curve: .p384, x: ones, y: ones) }
    }
}
