import HTTPCodec
import Net
import Testing

@Suite("HTTPServer: Expect: 100-continue over real sockets")
struct ExpectContinueTests {
    private static let continueLine = "HTTP/1.1 100 Continue\r\n\r\n"

    @Test(
        "a head with Expect: 100-continue gets 100 before the body is sent, then the final answer",
        arguments: [
            ("Content-Length: 5\r\n", "hello"),
            ("Transfer-Encoding: chunked\r\n", "5\r\nhello\r\n0\r\n\r\n"),
            ("Content-Length: 5\r\nEXPECT: 100-Continue\r\n", "hello"),
        ])
    func continueThenBody(framing: String, body: String) throws {
        let handler = RecordingHandler()
        let server = try TestServer(handler: handler)
        defer { server.stop() }
        let client = try TestClient(port: server.port, timeoutMilliseconds: 500)
        let expect = framing.contains("EXPECT") ? "" : "Expect: 100-continue\r\n"
        client.send("POST /up HTTP/1.1\r\nHost: a\r\n\(expect)\(framing)\r\n")
        // Well under curl's one-second wait: the 100 must come without any body byte sent.
        #expect(client.readRaw(until: "\r\n\r\n") == Self.continueLine)
        client.send(body)
        let (responses, _) = client.readResponses(1)
        #expect(responses.first?.status == 200)
        #expect(handler.requests == [Seen(method: "POST", target: "/up", body: Array("hello".utf8))])
    }

    @Test(
        "a head that fails a limit or names another expectation gets its final status and a close, no 100",
        arguments: [
            ("Expect: 100-continue\r\nContent-Length: 11\r\n", "HTTP/1.1 413 "),
            ("Content-Length: 11\r\nExpect: 100-continue\r\n", "HTTP/1.1 413 "),
            ("Expect: 100-continue\r\nContent-Length: 1\r\nContent-Length: 2\r\n", "HTTP/1.1 400 "),
            ("Expect: 200-ok\r\nContent-Length: 5\r\n", "HTTP/1.1 417 "),
            ("Expect: 100-continue, x\r\nContent-Length: 5\r\n", "HTTP/1.1 417 "),
            ("Expect: 100-continue\r\nExpect: foo\r\nContent-Length: 5\r\n", "HTTP/1.1 417 "),
        ])
    func refusedHeads(fields: String, statusLine: String) throws {
        let limits = HTTPParserLimits(maxBodyBytes: 10)
        let handler = RecordingHandler()
        let server = try TestServer(handler: handler, limits: limits)
        defer { server.stop() }
        let client = try TestClient(port: server.port, timeoutMilliseconds: 500)
        client.send("POST /up HTTP/1.1\r\nHost: a\r\n\(fields)\r\n")
        let raw = client.readRaw(until: "}}")
        #expect(raw.hasPrefix(statusLine))
        #expect(!raw.contains("100 Continue"))
        #expect(client.waitForClose())
        #expect(handler.requests.isEmpty)
    }

    @Test("no 100 for HTTP/1.0, for a bodiless request, or when the body came with the head")
    func noContinueWhenNotWaiting() throws {
        let server = try TestServer(handler: RecordingHandler())
        defer { server.stop() }
        let heads = [
            "POST /a HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi",
            "GET /b HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n",
            "POST /c HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi",
        ]
        for head in heads {
            let client = try TestClient(port: server.port, timeoutMilliseconds: 500)
            client.send(head)
            let raw = client.readRaw(until: "\r\n\r\n")
            #expect(raw.hasPrefix("HTTP/1.1 200 "), "\(head)")
        }
    }

    @Test("with an answer still owed, the 100 waits until that answer is written")
    func continueAfterOwedAnswers() throws {
        let handler = RecordingHandler()
        let server = try TestServer(handler: handler)
        defer { server.stop() }
        // The /slow answer comes from Dispatch's global pool, which a loaded parallel run can hold up for seconds.
        let client = try TestClient(port: server.port, timeoutMilliseconds: 5000)
        client.send(
            "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n"
                + "POST /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        let raw = client.readRaw(until: Self.continueLine)
        #expect(raw.hasPrefix("HTTP/1.1 200 "))
        #expect(raw.hasSuffix("/slow" + Self.continueLine))
        client.send("hello")
        let (responses, _) = client.readResponses(1)
        #expect(responses.first?.body == Array("/up".utf8))
    }
}
