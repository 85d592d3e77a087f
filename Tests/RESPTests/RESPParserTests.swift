import RESP
import Testing

/// Well-formed replies, RESP2 and RESP3, whole and split at every byte.
@Suite("RESP parser")
struct RESPParserTests {
    static let wellFormed: [(String, RESPValue)] = [
        ("+OK\r\n", .simpleString("OK")),
        ("-NOSCRIPT No matching script\r\n", .error("NOSCRIPT No matching script")),
        (":0\r\n", .integer(0)),
        (":-42\r\n", .integer(-42)),
        (":9223372036854775807\r\n", .integer(Int64.max)),
        (":-9223372036854775808\r\n", .integer(Int64.min)),
        ("$5\r\nhello\r\n", .bulkString(Array("hello".utf8))),
        ("$0\r\n\r\n", .bulkString([])),
        ("$4\r\na\r\nb\r\n", .bulkString(Array("a\r\nb".utf8))),
        ("$-1\r\n", .null),
        ("*-1\r\n", .null),
        ("*0\r\n", .array([])),
        ("*2\r\n:1\r\n$-1\r\n", .array([.integer(1), .null])),
        ("*2\r\n*1\r\n+a\r\n*0\r\n", .array([.array([.simpleString("a")]), .array([])])),
        ("_\r\n", .null),
        ("#t\r\n", .boolean(true)),
        ("#f\r\n", .boolean(false)),
        (",1.5\r\n", .double(1.5)),
        (",-2e3\r\n", .double(-2000)),
        (",inf\r\n", .double(.infinity)),
        ("(3492890328409238509324850943850943825024385\r\n", .bigNumber("3492890328409238509324850943850943825024385")),
        ("!9\r\nSYNTAX ok\r\n", .error("SYNTAX ok")),
        ("=8\r\ntxt:some\r\n", .bulkString(Array("some".utf8))),
        ("~2\r\n:1\r\n:2\r\n", .array([.integer(1), .integer(2)])),
        ("%1\r\n+key\r\n:7\r\n", .map([.simpleString("key"), .integer(7)])),
        (">2\r\n+message\r\n+hi\r\n", .push([.simpleString("message"), .simpleString("hi")])),
        ("|1\r\n+ttl\r\n:3\r\n:99\r\n", .integer(99)),
        ("*1\r\n|1\r\n+a\r\n+b\r\n:5\r\n", .array([.integer(5)])),
        ("|0\r\n+after\r\n", .simpleString("after")),
    ]

    @Test("each well-formed reply parses to its value, whole and fed one byte at a time")
    func wellFormedReplies() throws {
        for (wire, expected) in Self.wellFormed {
            var whole = RESPParser()
            whole.feed(Array(wire.utf8))
            #expect(try whole.next() == expected, "\(wire.debugDescription)")
            #expect(try whole.next() == nil)

            var trickled = RESPParser()
            var got: [RESPValue] = []
            for byte in wire.utf8 {
                trickled.feed([byte])
                if let value = try trickled.next() { got.append(value) }
            }
            #expect(got == [expected], "trickled \(wire.debugDescription)")
        }
    }

    @Test("a pipelined stream split at every position yields the same values in order")
    func everySplit() throws {
        let wire = Array(Self.wellFormed.map(\.0).joined().utf8)
        let expected = Self.wellFormed.map(\.1)
        for split in 0...wire.count {
            var parser = RESPParser()
            var got: [RESPValue] = []
            for part in [wire[..<split], wire[split...]] {
                parser.feed(Array(part))
                while let value = try parser.next() { got.append(value) }
            }
            #expect(got == expected, "split at \(split)")
        }
    }

    @Test("bytes of the next reply stay buffered until asked for")
    func buffering() throws {
        var parser = RESPParser()
        parser.feed(Array("+OK\r\n:1".utf8))
        #expect(try parser.next() == .simpleString("OK"))
        #expect(try parser.next() == nil)
        #expect(parser.bufferedByteCount == 2)
        parser.feed(Array("\r\n".utf8))
        #expect(try parser.next() == .integer(1))
        #expect(parser.bufferedByteCount == 0)
    }

    @Test("a 1 MiB bulk string fed in 1 KiB pieces arrives intact")
    func largeBulk() throws {
        let payload = (0..<(1 << 20)).map { UInt8($0 % 251) }
        let wire = Array("$\(payload.count)\r\n".utf8) + payload + [13, 10]
        var parser = RESPParser()
        var got: RESPValue?
        var offset = 0
        while offset < wire.count {
            parser.feed(Array(wire[offset..<min(offset + 1024, wire.count)]))
            offset += 1024
            if let value = try parser.next() { got = value }
        }
        #expect(got == .bulkString(payload))
    }
}
