import HTTPCodec
import Testing

@Suite("Response and request serializers")
struct SerializerTests {
    static func text(_ response: HTTPResponse, keepAlive: Bool = true, head: Bool = false) -> String {
        var out: [UInt8] = []
        HTTPResponseSerializer.write(response, keepAlive: keepAlive, isHeadRequest: head, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test("status line, headers, Content-Length and Connection: close are written")
    func basic() {
        let response = HTTPResponse(status: 404, headers: HTTPHeaders([("X-A", "1")]), body: Array("nope".utf8))
        #expect(
            Self.text(response, keepAlive: false)
                == "HTTP/1.1 404 Not Found\r\nX-A: 1\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope")
        #expect(Self.text(response, head: true) == "HTTP/1.1 404 Not Found\r\nX-A: 1\r\nContent-Length: 4\r\n\r\n")
    }

    @Test(
        "fields with CR, LF, NUL or a bad name are dropped, framing fields are the serializer's",
        arguments: [
            ("X-A", "a\r\nSet-Cookie: x"), ("X-A", "a\nb"), ("X-A", "a\rb"), ("X-A", "a\u{0}b"), ("X\r\nB", "v"),
            ("X A", "v"), ("", "v"), ("Content-Length", "99"), ("Transfer-Encoding", "chunked"),
            ("Connection", "keep-alive"),
        ])
    func dropped(name: String, value: String) {
        let text = Self.text(HTTPResponse(status: 200, headers: HTTPHeaders([(name, value)])))
        #expect(text == "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    }

    @Test("204 has no length and no body; a bad status becomes 500")
    func special() {
        #expect(Self.text(HTTPResponse(status: 204, body: [1])) == "HTTP/1.1 204 No Content\r\n\r\n")
        #expect(Self.text(HTTPResponse(status: 42)).hasPrefix("HTTP/1.1 500 "))
    }

    @Test("requests are written as HTTP/1.1 with a length from the body")
    func request() {
        var out: [UInt8] = []
        let request = HTTPRequest(
            method: "POST", target: "/x?y", version: .http1_0,
            headers: HTTPHeaders([("Host", "u"), ("Content-Length", "1"), ("Transfer-Encoding", "chunked")]),
            body: Array("hey".utf8))
        HTTPRequestSerializer.write(request, into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "POST /x?y HTTP/1.1\r\nHost: u\r\nContent-Length: 3\r\n\r\nhey")
    }

    @Test("parsed fields are marked validated; renaming a field or changing its value drops the mark")
    func validationMark() throws {
        var parser = HTTPRequestParser()
        parser.feed(Array("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n\r\n".utf8))
        let request = try #require(try parser.next())
        #expect(request.headers.fields.allSatisfy { $0.isValidated })
        var renamed = try #require(request.headers.fields.last)
        renamed.name = "X\r\nB"
        var revalued = try #require(request.headers.fields.last)
        revalued.value = "a\r\nSet-Cookie: x"
        #expect(!renamed.isValidated && !revalued.isValidated)
        #expect(!HTTPField(name: "X-A", value: "1").isValidated)
        // The mark is bookkeeping, not content: a parsed field equals the same field built in code.
        #expect(request.headers.fields.last == HTTPField(name: "X-A", value: "1"))
        #expect(!HTTPResponseSerializer.isWritable(renamed) && !HTTPResponseSerializer.isWritable(revalued))
    }

    @Test("Content-Length is written in decimal for every size", arguments: [0, 9, 10, 99, 100, 12_345, 1_000_000])
    func lengths(size: Int) {
        let response = HTTPResponse(status: 200, body: [UInt8](repeating: 0x61, count: size))
        #expect(Self.text(response, head: true) == "HTTP/1.1 200 OK\r\nContent-Length: \(size)\r\n\r\n")
        var out: [UInt8] = []
        HTTPRequestSerializer.write(HTTPRequest(method: "PUT", target: "/", body: response.body), into: &out)
        let head = String(decoding: out.prefix(64), as: UTF8.self)
        #expect(head.hasPrefix("PUT / HTTP/1.1\r\nContent-Length: \(size)\r\n"))
    }
}

@Suite("HTTPResponseParser")
struct ResponseParserTests {
    static func parse(_ raw: String, method: String = "GET", eof: Bool = true) throws -> [HTTPResponse] {
        var parser = HTTPResponseParser()
        parser.expectResponse(toMethod: method)
        parser.feed(Array(raw.utf8))
        var out: [HTTPResponse] = []
        while let r = try parser.next() {
            out.append(r)
            parser.expectResponse(toMethod: method)
        }
        if eof, let r = try parser.finish() { out.append(r) }
        return out
    }

    @Test("framing by length, chunks, close; 1xx skipped; HEAD/204/304 without body")
    func framing() throws {
        #expect(try Self.parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").map(\.body) == [Array("ok".utf8)])
        #expect(
            try Self.parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")[0].body
                == Array("ok".utf8))
        #expect(try Self.parse("HTTP/1.1 200 OK\r\n\r\nrest")[0].body == Array("rest".utf8))
        #expect(try Self.parse("HTTP/1.1 103 Early\r\nLink: x\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")[0].status == 204)
        #expect(try Self.parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", method: "HEAD")[0].body.isEmpty)
        #expect(try Self.parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n").count == 1)
    }

    @Test("keep-alive follows version, Connection and framing")
    func keepAlive() throws {
        var parser = HTTPResponseParser()
        parser.expectResponse(toMethod: "GET")
        parser.feed(Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".utf8))
        _ = try parser.next()
        #expect(parser.lastResponseKeepAlive)
        parser.feed(Array("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n".utf8))
        _ = try parser.next()
        #expect(!parser.lastResponseKeepAlive)
    }

    @Test(
        "malformed responses are refused",
        arguments: [
            "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", "HTTP/2.0 200 OK\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n", "HTTP/1.1 200 OK\r\nX : y\r\n\r\n",
            "HTTP/1.1 101 Switching\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort",
        ])
    func malformed(raw: String) {
        #expect(throws: HTTPParseError.self) { try Self.parse(raw) }
    }
}
