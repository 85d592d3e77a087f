import HTTPCodec
import Testing

@Suite("Header values that are not UTF-8 are forwarded byte for byte")
struct ObsTextForwardingTests {
    private static let values: [[UInt8]] = [
        [0x63, 0x61, 0x66, 0xE9],  // "café" in Latin-1
        [0xE9],
        [0xFF, 0x80, 0x20, 0x41],
        [0xC3, 0x28],  // a broken UTF-8 sequence
        [0xC3, 0xA9],  // valid UTF-8 "é": unchanged too
        Array("plain".utf8),
    ]

    private func parseRequest(_ raw: [UInt8]) throws -> HTTPRequest {
        var parser = HTTPRequestParser()
        parser.feed(raw)
        return try #require(try parser.next())
    }

    @Test("a request parsed and written by HTTPRequestSerializer is byte-identical", arguments: values)
    func requestRoundTrip(value: [UInt8]) throws {
        let raw = Array("GET /p HTTP/1.1\r\nHost: a.test\r\nX-Name: ".utf8) + value + Array("\r\nX-B: 1\r\n\r\n".utf8)
        var out: [UInt8] = []
        HTTPRequestSerializer.write(try parseRequest(raw), into: &out)
        #expect(out == raw)
    }

    @Test("a response parsed and written by HTTPResponseSerializer keeps the value's bytes", arguments: values)
    func responseRoundTrip(value: [UInt8]) throws {
        var parser = HTTPResponseParser()
        parser.expectResponse(toMethod: "GET")
        parser.feed(Array("HTTP/1.1 200 OK\r\nX-Name: ".utf8) + value + Array("\r\nContent-Length: 0\r\n\r\n".utf8))
        let response = try #require(try parser.next())
        var out: [UInt8] = []
        HTTPResponseSerializer.write(response, keepAlive: true, isHeadRequest: false, into: &out)
        let expected = Array("HTTP/1.1 200 OK\r\nX-Name: ".utf8) + value + Array("\r\nContent-Length: 0\r\n\r\n".utf8)
        #expect(out == expected)
    }

    @Test("value still reads Latin-1 as text, and replacing it drops the kept bytes")
    func textViewAndReplacement() throws {
        let raw = Array("GET / HTTP/1.1\r\nHost: a\r\nX-Name: caf".utf8) + [0xE9] + Array("\r\n\r\n".utf8)
        let request = try parseRequest(raw)
        var field = try #require(request.headers.fields.last)
        #expect(field.value == "café")
        #expect(field.rawValue == [0x63, 0x61, 0x66, 0xE9])
        field.value = "new"
        #expect(field.rawValue == nil)
        #expect(HTTPField(name: "X", value: "café").rawValue == nil)
    }
}
