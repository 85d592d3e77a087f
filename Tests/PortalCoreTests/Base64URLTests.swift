import PortalCore
import Testing

@Suite("Base64URL")
struct Base64URLTests {
    @Test("encodes the RFC 4648 vectors without padding, in the URL alphabet")
    func encodesKnownVectors() {
        let table: [(String, String)] = [
            ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy"),
        ]
        for (plain, encoded) in table {
            #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
            #expect(Base64URL.decode(encoded) == Array(plain.utf8))
        }
        #expect(Base64URL.encode([0xFB, 0xFF, 0xBF]) == "-_-_")
        #expect(Base64URL.decode("-_-_") == [0xFB, 0xFF, 0xBF])
    }

    @Test("round-trips every length from 0 to 300 bytes")
    func roundTrips() {
        var bytes: [UInt8] = []
        for length in 0...300 {
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes, "length \(length)")
            bytes.append(UInt8(truncatingIfNeeded: length &* 151 &+ 7))
        }
    }

    @Test("refuses padding, the standard alphabet, whitespace, impossible lengths and non-canonical tail bits")
    func refusesHostileInput() {
        let hostile: [String] = [
            "Zg==", "Zg=", "Zm8=", "Zm9v====", "+/+/", "ab+c", "ab/c", " Zg", "Zg ", "Zm\n9v", "Zm\t9v",
            "Z", "Zm9vY", "Zh", "Zm9", "Zm8x=", "Zm.9", "Zm9v\u{0}", "Zm9vé", "=", "====",
        ]
        for text in hostile {
            #expect(Base64URL.decode(text) == nil, "\(text.debugDescription) must be refused")
        }
    }

    @Test("decodes every canonical two- and three-character tail exactly once")
    func tailIsCanonical() {
        for byte in 0...255 {
            let encoded = Base64URL.encode([UInt8(byte)])
            #expect(encoded.utf8.count == 2)
            #expect(Base64URL.decode(encoded) == [UInt8(byte)])
        }
    }
}
