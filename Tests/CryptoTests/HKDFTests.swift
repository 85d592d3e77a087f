import Crypto
import Testing

@Suite("HKDF")
struct HKDFTests {
    private static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return out
    }

    @Test("RFC 5869 test cases 1 and 3 (SHA-256, with and without salt and info)")
    func rfc5869() throws {
        let secret = [UInt8](repeating: 0x0b, count: 22)
        let one = try HKDF.deriveKey(
            from: secret, salt: Self.bytes("000102030405060708090a0b0c"), info: Self.bytes("f0f1f2f3f4f5f6f7f8f9"),
            byteCount: 42)
        #expect(
            Digest.hex(one)
                == "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
        let three = try HKDF.deriveKey(from: secret, salt: [], info: [], byteCount: 42)
        #expect(
            Digest.hex(three)
                == "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8")
    }

    @Test("an empty secret and impossible lengths are refused")
    func refusals() {
        #expect(throws: CryptoError.self) { try HKDF.deriveKey(from: [], salt: [], info: [], byteCount: 32) }
        #expect(throws: CryptoError.self) { try HKDF.deriveKey(from: [1], salt: [], info: [], byteCount: 0) }
        #expect(throws: CryptoError.self) { try HKDF.deriveKey(from: [1], salt: [], info: [], byteCount: 255 * 32 + 1) }
    }
}

@Suite("IncrementalDigest")
struct IncrementalDigestTests {
    @Test("pieces fed one by one give the one-shot digest")
    func pieces() {
        let message = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let digest = IncrementalDigest()
        var offset = 0
        for size in [0, 1, 63, 64, 65, 4096, 10_000] where offset < message.count {
            let end = min(message.count, offset + size)
            digest.update(Array(message[offset..<end]))
            offset = end
        }
        digest.update(Array(message[offset...]))
        #expect(digest.finalize() == Digest.sha256(message))
    }
}
