import Dispatch
import Crypto
import Testing

@Suite("Digest")
struct DigestTests {
    @Test(
        "digests match the FIPS 180-2 examples for the empty and the \"abc\" message",
        arguments: [
            (DigestAlgorithm.sha256, "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            (.sha256, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                .sha384, "abc",
                "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded163"
                    + "1a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"
            ),
            (
                .sha512, "",
                "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
                    + "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
            ),
            (
                .sha512, "abc",
                "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                    + "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
            ),
        ])
    func knownAnswers(algorithm: DigestAlgorithm, message: String, expected: String) {
        let digest = Digest.hash(Array(message.utf8), using: algorithm)
        #expect(digest.count == algorithm.byteCount)
        #expect(Digest.hex(digest) == expected)
    }

    @Test(
        "hex writes two lower-case digits per byte, the same from the array and the generic overload",
        arguments: [
            ([UInt8](), ""), ([0x00], "00"), ([0x0F, 0xF0], "0ff0"), ([0xFF, 0x7F, 0x80, 0x01], "ff7f8001"),
            (Array(0...255).map { UInt8($0) }.suffix(3).map { $0 }, "fdfeff"),
        ])
    func hex(bytes: [UInt8], expected: String) {
        #expect(Digest.hex(bytes) == expected)
        #expect(Digest.hex(bytes[...]) == expected)
        #expect(Digest.hex(bytes.reversed().reversed()) == expected)
    }

    @Test("the digest fetched once gives the same answer from many threads at once")
    func concurrentUse() {
        let expected = Digest.sha256(Array("abc".utf8))
        let mismatches = (0..<8).map { _ in 0 }
        var results = mismatches
        results.withUnsafeMutableBufferPointer { slots in
            nonisolated(unsafe) let slots = slots
            DispatchQueue.concurrentPerform(iterations: 8) { worker in
                for _ in 0..<500 where Digest.sha256(Array("abc".utf8)) != expected { slots[worker] += 1 }
            }
        }
        #expect(results == mismatches)
    }
}
