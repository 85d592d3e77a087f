import HTTPCodec
import Testing

/// A generated table of hostile and edge-case requests, each with the status it must get (nil: accepted).
struct HostileCase: Sendable, CustomTestStringConvertible {
    var label: String
    var raw: [UInt8]
    var status: Int?

    var testDescription: String { label }

    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    static let ctls: [UInt8] = Array(0x00...0x1F) + [0x7F]

    static var table: [HostileCase] {
        var cases: [HostileCase] = []
        let host = "Host: a.test\r\n"
        // Every control byte and every byte past ASCII inside the target.
        for b in ctls + Array(0x80...0xFF) {
            cases.append(
                .init(
                    label: "target byte \(b)", raw: bytes("GET /a") + [b] + bytes("b HTTP/1.1\r\n\(host)\r\n"),
                    status: 400))
        }
        // Every control byte in a field name and in a field value (HTAB is allowed in values).
        for b in ctls {
            cases.append(
                .init(
                    label: "name byte \(b)",
                    raw: bytes("GET / HTTP/1.1\r\n\(host)X-") + [b]
                        + bytes("A: v\r\n\r\n"), status: 400))
            cases.append(
                .init(
                    label: "value byte \(b)",
                    raw: bytes("GET / HTTP/1.1\r\n\(host)X-A: a") + [b]
                        + bytes("b\r\n\r\n"), status: b == 0x09 ? nil : 400))
            cases.append(
                .init(
                    label: "method byte \(b)", raw: bytes("GE") + [b] + bytes("T / HTTP/1.1\r\n\(host)\r\n"),
                    status: 400))
        }
        // obs-text is allowed in values.
        for b in UInt8(0x80)...UInt8(0xFF) {
            cases.append(
                .init(
                    label: "value obs-text \(b)",
                    raw: bytes("GET / HTTP/1.1\r\n\(host)X-A: ") + [b]
                        + bytes("\r\n\r\n"), status: nil))
        }
        // Separators are not token bytes: in a method or a field name they are refused.
        for c in "()<>@,;\\\"/[]?={} " {
            cases.append(.init(label: "method sep \(c)", raw: bytes("G\(c)T / HTTP/1.1\r\n\(host)\r\n"), status: 400))
            if c != " " {
                cases.append(
                    .init(
                        label: "name sep \(c)", raw: bytes("GET / HTTP/1.1\r\n\(host)X\(c)A: v\r\n\r\n"),
                        status: 400))
            }
        }
        cases += whitespaceAndLines + framing + versions + limits
        return cases
    }

    static var whitespaceAndLines: [HostileCase] {
        [
            .init(label: "tab separator", raw: bytes("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"), status: 400),
            .init(label: "leading space", raw: bytes(" GET / HTTP/1.1\r\nHost: a\r\n\r\n"), status: 400),
            .init(label: "trailing space", raw: bytes("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), status: 400),
            .init(label: "space in target", raw: bytes("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"), status: 400),
            .init(label: "missing target", raw: bytes("GET HTTP/1.1\r\nHost: a\r\n\r\n"), status: 400),
            .init(label: "tab before colon", raw: bytes("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"), status: 400),
            .init(label: "fold with tab", raw: bytes("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n\t2\r\n\r\n"), status: 400),
            .init(label: "leading space field", raw: bytes("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), status: 400),
            .init(label: "empty name", raw: bytes("GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n"), status: 400),
            .init(label: "no colon", raw: bytes("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n"), status: 400),
            .init(label: "bare LF end", raw: bytes("GET / HTTP/1.1\r\nHost: a\r\n\n"), status: 400),
            .init(label: "bare CR end", raw: bytes("GET / HTTP/1.1\r\nHost: a\r\r\n\r\n"), status: 400),
            .init(label: "LF CR", raw: bytes("GET / HTTP/1.1\n\rHost: a\r\n\r\n"), status: 400),
            .init(label: "empty value", raw: bytes("GET / HTTP/1.1\r\nHost: a\r\nX-E:\r\n\r\n"), status: nil),
            .init(label: "leading CRLF", raw: bytes("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), status: nil),
            .init(label: "host with space", raw: bytes("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), status: 400),
            .init(label: "host list", raw: bytes("GET / HTTP/1.1\r\nHost: a, b\r\n\r\n"), status: 400),
            .init(label: "1.0 without host", raw: bytes("GET / HTTP/1.0\r\n\r\n"), status: nil),
            .init(label: "1.0 two hosts", raw: bytes("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n"), status: 400),
        ]
    }

    static var framing: [HostileCase] {
        let pre = "POST / HTTP/1.1\r\nHost: a\r\n"
        var cases: [HostileCase] = []
        let lengths: [(String, Int?)] = [
            ("5", nil), (" 5 ", nil), ("005", nil), ("5,5", nil), ("5 , 5", nil), ("5,6", 400), ("", 400),
            ("5,", 400), (",5", 400), ("5 5", 400), ("5.0", 400), ("1e1", 400), ("0x5", 400), ("+5", 400),
            ("-5", 400), ("５", 400), ("99999999999999999999999", 413), ("1048577", 413),
        ]
        for (value, status) in lengths {
            cases.append(
                .init(
                    label: "CL '\(value)'", raw: bytes("\(pre)Content-Length: \(value)\r\n\r\nhello"),
                    status: status))
        }
        let codings: [(String, Int?)] = [
            ("chunked", nil), ("CHUNKED", nil), (" chunked ", nil), ("gzip, chunked", 501), ("chunked, chunked", 400),
            ("chunked,", 400), ("identity", 501), ("chunked;q=1", 501), ("", 400), ("chunked, gzip", 400),
        ]
        for (value, status) in codings {
            cases.append(
                .init(
                    label: "TE '\(value)'", raw: bytes("\(pre)Transfer-Encoding: \(value)\r\n\r\n0\r\n\r\n"),
                    status: status))
        }
        let chunks: [(String, Int?)] = [
            ("5\r\nhello\r\n0\r\n\r\n", nil), ("5 ;a=b\r\nhello\r\n0\r\n\r\n", nil), ("5 \r\nhello\r\n0\r\n\r\n", 400),
            ("5;a\u{1}\r\nhello\r\n0\r\n\r\n", 400), ("+5\r\nhello\r\n0\r\n\r\n", 400), ("\r\nhello\r\n0\r\n\r\n", 400),
            ("5\nhello\r\n0\r\n\r\n", 400), ("5\r\nhello\n0\r\n\r\n", 400), ("5\r\nhelloX\r\n0\r\n\r\n", 400),
            ("g\r\n", 400), ("0\r\nX: 1\n\r\n", 400), ("0\r\nX : 1\r\n\r\n", 400), ("0\r\n x\r\n\r\n", 400),
            ("100001\r\n", 413), ("FFFFFFFFFFFFFFFFFF\r\n", 413),
        ]
        for (value, status) in chunks {
            cases.append(
                .init(
                    label: "chunk \(value.debugDescription)",
                    raw: bytes("\(pre)Transfer-Encoding: chunked\r\n\r\n\(value)"), status: status))
        }
        cases.append(
            .init(
                label: "TE in 1.0", raw: bytes("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
                status: 400))
        return cases
    }

    static var versions: [HostileCase] {
        let table: [(String, Int?)] = [
            ("HTTP/1.1", nil), ("HTTP/1.0", nil), ("HTTP/1.2", 505), ("HTTP/2.0", 505), ("HTTP/0.9", 505),
            ("http/1.1", 400), ("HTTP/1", 400), ("HTTP/11", 400), ("HTTP/1.1.1", 400), ("HTTP /1.1", 400),
            ("HTTP/a.b", 400), ("", 400),
        ]
        return table.map { v, s in
            .init(label: "version '\(v)'", raw: bytes("GET / \(v)\r\nHost: a\r\n\r\n"), status: s)
        }
    }

    static var limits: [HostileCase] {
        let target8k = "/" + String(repeating: "a", count: 8 * 1024 - 1)
        let fields100 = (0..<99).map { "X-\($0): v\r\n" }.joined()
        let block16k = "X-Big: " + String(repeating: "b", count: 16 * 1024 - 9 - 14) + "\r\n"
        return [
            .init(label: "target at limit", raw: bytes("GET \(target8k) HTTP/1.1\r\nHost: a\r\n\r\n"), status: nil),
            .init(label: "target past limit", raw: bytes("GET \(target8k)a HTTP/1.1\r\nHost: a\r\n\r\n"), status: 414),
            .init(label: "100 fields", raw: bytes("GET / HTTP/1.1\r\nHost: a\r\n\(fields100)\r\n"), status: nil),
            .init(
                label: "101 fields", raw: bytes("GET / HTTP/1.1\r\nHost: a\r\n\(fields100)Y: 1\r\n\r\n"), status: 431),
            .init(label: "16 KiB fields", raw: bytes("GET / HTTP/1.1\r\nHost: a.test\r\n\(block16k)\r\n"), status: nil),
            .init(label: "16 KiB + 1", raw: bytes("GET / HTTP/1.1\r\nHost: a.test\r\nX\(block16k)\r\n"), status: 431),
            .init(
                label: "body at limit",
                raw: bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048576\r\n\r\n")
                    + [UInt8](repeating: 0x61, count: 1 << 20), status: nil),
        ]
    }
}

@Suite("HTTPRequestParser refuses hostile input")
struct RequestParserHostileTests {
    @Test("the hostile table is large enough to mean something")
    func tableSize() {
        #expect(HostileCase.table.count >= 200)
    }

    @Test("each hostile case gets its status, whole and byte by byte", arguments: HostileCase.table)
    func hostile(_ c: HostileCase) {
        for step in [c.raw.count, 1] {
            var parser = HTTPRequestParser()
            var result: Result<Int, HTTPParseError> = .success(0)
            var at = 0
            feeding: while at < c.raw.count {
                parser.feed(Array(c.raw[at..<min(at + step, c.raw.count)]))
                at += step
                do {
                    while try parser.next() != nil { result = .success(1) }
                } catch {
                    result = .failure(error)
                    break feeding
                }
            }
            switch (result, c.status) {
            case (.success(let n), nil): #expect(n == 1, "\(c.label): incomplete")
            case (.failure(let e), let s?): #expect(e.status == s, "\(c.label): \(e)")
            case (.success, let s?): Issue.record("\(c.label): accepted, wanted \(s)")
            case (.failure(let e), nil): Issue.record("\(c.label): \(e)")
            }
            if c.raw.count > 200_000 { break }
        }
    }

    @Test("a chunked body past the body limit is refused with 413")
    func chunkedBodyLimit() throws {
        var parser = HTTPRequestParser(limits: HTTPParserLimits(maxBodyBytes: 8))
        parser.feed(Array("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n4\r\n".utf8))
        #expect(throws: HTTPParseError.self) { try parser.next() }
        #expect(throws: HTTPParseError.self) { try parser.next() }
    }

    @Test("an error is sticky: later calls throw it again")
    func sticky() {
        var parser = HTTPRequestParser()
        parser.feed(Array("GET / HTTP/1.1\nHost: a\r\n\r\n".utf8))
        #expect(throws: HTTPParseError.self) { try parser.next() }
        parser.feed(Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8))
        #expect(throws: HTTPParseError.self) { try parser.next() }
    }

    @Test("values keep obs-text, trim OWS, and the phase follows the bytes")
    func valuesAndPhase() throws {
        var parser = HTTPRequestParser()
        #expect(parser.phase == .idle)
        parser.feed(Array("POST /x HTTP/1.1\r\nHost: a\r\nX-N: \t caf\u{e9} \t\r\nContent-Length: 2\r\n\r\nh".utf8))
        #expect(try parser.next() == nil)
        #expect(parser.phase == .body)
        parser.feed(Array("i".utf8))
        let request = try #require(try parser.next())
        #expect(request.headers.first("x-n") == "caf\u{e9}")
        #expect(request.body == Array("hi".utf8))
        #expect(parser.phase == .idle)
    }
}
