import Crypto
import Testing

@Suite("RSA")
struct RSATests {
    @Test("verifies every Wycheproof RSASSA-PKCS1-v1_5 2048/SHA-256 case")
    func wycheproofPKCS1() throws {
        try run(file: "rsa_signature_2048_sha256_test.json", padding: .pkcs1v15)
    }

    @Test("verifies every Wycheproof RSASSA-PSS 2048/SHA-256/MGF1-SHA-256/salt 32 case")
    func wycheproofPSS() throws {
        try run(file: "rsa_pss_2048_sha256_mgf1_32_test.json", padding: .pss)
    }

    private func run(file name: String, padding: RSAPadding) throws {
        let file = try Wycheproof(name)
        var ran = 0
        for group in file.groups {
            #expect(group["sha"]?.stringValue == "SHA-256")
            if padding == .pss {
                #expect(group["mgfSha"]?.stringValue == "SHA-256" && group["sLen"]?.numberValue?.int64 == 32)
            }
            let numbers = try #require(group["publicKey"]?.objectValue)
            let modulus = try Wycheproof.hex(try #require(numbers["modulus"]?.stringValue)).drop { $0 == 0 }
            let exponent = try Wycheproof.hex(try #require(numbers["publicExponent"]?.stringValue))
            let key = try PublicKey.rsa(modulus: Array(modulus), exponent: exponent)
            #expect(key.bitCount == 2048)
            for test in group["tests"]?.arrayValue ?? [] {
                let item = Wycheproof.Case(group: group, test: test)
                let verdict = key.isValidRSASignature(
                    try item.hex("sig"), for: try item.hex("msg"), digest: .sha256, padding: padding)
                item.expect(verdict)
                ran += 1
            }
        }
        #expect(ran == file.declaredCount)
    }

    @Test("signs with PKCS#1 v1.5 and PSS for SHA-256/384/512; a padding never verifies as the other")
    func signRoundTrip() throws {
        let key = try PrivateKey.generate(.rsa(bits: 2048))
        let publicKey = try key.publicKey()
        let message = Array("payload".utf8)
        for digest in [DigestAlgorithm.sha256, .sha384, .sha512] {
            for padding in [RSAPadding.pkcs1v15, .pss] {
                let signature = try key.rsaSignature(for: message, digest: digest, padding: padding)
                #expect(publicKey.isValidRSASignature(signature, for: message, digest: digest, padding: padding))
                let other: RSAPadding = padding == .pss ? .pkcs1v15 : .pss
                #expect(!publicKey.isValidRSASignature(signature, for: message, digest: digest, padding: other))
                #expect(!publicKey.isValidRSASignature(signature, for: message + [0], digest: digest, padding: padding))
            }
        }
        #expect(throws: CryptoError.self) { try PrivateKey.generate(.rsa(bits: 1024)) }
        #expect(!publicKey.isValidECDSASignature(raw: [UInt8](repeating: 1, count: 64), for: message, digest: .sha256))
    }
}
