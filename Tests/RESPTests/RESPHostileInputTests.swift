import RESP
import Testing

/// Input no honest server sends: each is refused with the rule it breaks, whole or trickled, and the parser
/// stays failed afterwards.
@Suite("RESP hostile input")
struct RESPHostileInputTests {
    static let small = RESPParserLimits(
        maxLineBytes: 32, maxBulkBytes: 64, maxDepth: 4, maxElements: 16, maxValueBytes: 256)

    static let table: [(String, String, RESPParseError.Kind)] = [
        ("unknown type byte", "?x\r\n", .unknownType),
        ("a NUL as type", "\0\r\n", .unknownType),
        ("bare LF after a status", "+OK\n", .badLineEnd),
        ("CR not followed by LF", "+OK\rX\n", .badLineEnd),
        ("LF inside a status line", "+O\nK\r\n", .badLineEnd),
        ("status line past the limit", "+" + String(repeating: "a", count: 40) + "\r\n", .lineTooLong),
        ("unterminated endless line", "+" + String(repeating: "a", count: 40), .lineTooLong),
        ("integer with a plus sign", ":+1\r\n", .badNumber),
        ("empty integer", ":\r\n", .badNumber),
        ("integer with a space", ": 1\r\n", .badNumber),
        ("integer overflow", ":9223372036854775808\r\n", .badNumber),
        ("integer underflow", ":-9223372036854775809\r\n", .badNumber),
        ("20-digit integer", ":12345678901234567890\r\n", .badNumber),
        ("negative bulk length", "$-2\r\n", .badLength),
        ("bulk length with a sign", "$+3\r\nabc\r\n", .badLength),
        ("hex bulk length", "$0x3\r\nabc\r\n", .badLength),
        ("empty bulk length", "$\r\n", .badLength),
        ("bulk length of 2^63", "$9223372036854775808\r\n", .badLength),
        ("bulk past the limit", "$65\r\n", .bulkTooLarge),
        ("bulk without its CRLF", "$3\r\nabcXY", .badBulkEnd),
        ("bulk longer than declared", "$2\r\nabc\r\n", .badBulkEnd),
        ("negative array count", "*-2\r\n", .badLength),
        ("null map", "%-1\r\n", .badLength),
        ("null blob error", "!-1\r\n", .badLength),
        ("array count past the element budget", "*17\r\n", .valueTooLarge),
        ("huge declared array", "*999999999999\r\n", .valueTooLarge),
        ("map whose pairs pass the budget", "%9\r\n", .valueTooLarge),
        ("nesting past the depth limit", "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", .tooDeep),
        ("many small elements past the budget", "*8\r\n" + String(repeating: "*1\r\n:1\r\n", count: 8), .valueTooLarge),
        ("boolean other than t or f", "#x\r\n", .badNumber),
        ("null with content", "_x\r\n", .badNumber),
        ("double with letters", ",1.5x\r\n", .badNumber),
        ("double that is only a dot", ",.\r\n", .badNumber),
        ("big number with a space", "(12 3\r\n", .badNumber),
        ("verbatim without a format", "=3\r\nabc\r\n", .badVerbatim),
        ("verbatim with a bad separator", "=5\r\ntxt-a\r\n", .badVerbatim),
    ]

    @Test("each hostile input is refused with its rule, fed whole")
    func whole() {
        for (name, wire, kind) in Self.table {
            var parser = RESPParser(limits: Self.small)
            parser.feed(Array(wire.utf8))
            #expect(throws: RESPParseError(kind), "\(name)") { _ = try drain(&parser) }
        }
    }

    @Test("each hostile input is refused with the same rule when it arrives a byte at a time")
    func trickled() {
        for (name, wire, kind) in Self.table {
            var parser = RESPParser(limits: Self.small)
            #expect(throws: RESPParseError(kind), "\(name)") {
                for byte in wire.utf8 {
                    parser.feed([byte])
                    _ = try drain(&parser)
                }
            }
        }
    }

    @Test("after an error the parser stays failed, even when good bytes follow")
    func staysFailed() {
        var parser = RESPParser()
        parser.feed(Array("?\r\n".utf8))
        #expect(throws: RESPParseError(.unknownType)) { try parser.next() }
        parser.feed(Array("+OK\r\n".utf8))
        #expect(throws: RESPParseError(.unknownType)) { try parser.next() }
    }

    @Test("a value spanning more than maxValueBytes is refused before it is complete")
    func valueBudget() {
        var parser = RESPParser(limits: Self.small)
        let bulk = "$60\r\n" + String(repeating: "b", count: 60) + "\r\n"
        parser.feed(Array(("*5\r\n" + String(repeating: bulk, count: 4) + "$60\r\n").utf8))
        #expect(throws: RESPParseError(.valueTooLarge)) { _ = try drain(&parser) }
    }

    @Test("error descriptions name the rule and never quote the bytes")
    func descriptions() {
        var parser = RESPParser(limits: Self.small)
        parser.feed(Array("+secret-token-value-that-is-long-enough-to-fail\r\n".utf8))
        do {
            _ = try parser.next()
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "RESP: line_too_long")
            #expect(!error.description.contains("secret"))
        }
    }

    @Test("random bytes never crash the parser: each run ends in values, a wait, or an error")
    func randomBytes() {
        var generator = SplitMix(seed: 0x5EED)
        let alphabet = Array("+-:$*_#,(!=%~>|\r\n0123456789-abc".utf8)
        for _ in 0..<2_000 {
            var parser = RESPParser(limits: Self.small)
            let length = Int(generator.next() % 64)
            let bytes = (0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
            parser.feed(bytes)
            _ = try? drain(&parser)
            #expect(parser.bufferedByteCount <= bytes.count)
        }
    }

    private func drain(_ parser: inout RESPParser) throws(RESPParseError) -> [RESPValue] {
        var values: [RESPValue] = []
        while let value = try parser.next() { values.append(value) }
        return values
    }
}

/// A small deterministic generator, so a failure can be replayed.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
