import Foundation
import HTTPCodec
import Net
import Testing
import VectorTestSupport

#if canImport(Glibc)
    import Glibc
#endif

@Suite("HTTPServer with a streaming handler over real sockets")
struct StreamingServerTests {
    @Test("a body arrives in parts, by length or chunked, and is answered once it ended; keep-alive goes on")
    func bodyInParts() throws {
        let handler = StreamingTestHandler()
        let server = try TestServer(handler: handler)
        defer { server.stop() }
        let client = try TestClient(port: server.port)
        client.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 300000\r\n\r\n")
        for _ in 0..<3 {
            usleep(20_000)
            client.send([UInt8](repeating: 7, count: 100_000))
        }
        let first = client.readResponses(1, method: "POST").responses.first
        #expect(first?.status == 200)
        let text = String(decoding: first?.body ?? [], as: UTF8.self)
        #expect(text.hasPrefix("n=300000 parts="))
        // Delivered as it came, not collected: more than one part.
        #expect(Int(text.split(separator: "=").last ?? "0") ?? 0 > 1)

        client.send("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        usleep(20_000)
        client.send("6\r\n world\r\n0\r\n\r\n")
        let second = client.readResponses(1, method: "POST").responses.first
        #expect(second.map { String(decoding: $0.body, as: UTF8.self) } == "n=11 parts=2")
    }

    @Test("an answer of unknown length is chunked to HTTP/1.1 and delimited by the close to HTTP/1.0")
    func unknownLength() throws {
        let server = try TestServer(handler: StreamingTestHandler())
        defer { server.stop() }
        let modern = try TestClient(port: server.port)
        modern.send("GET /stream-unknown/300000 HTTP/1.1\r\nHost: a\r\n\r\n")
        let chunked = modern.readCounted()
        #expect(chunked.status == 200)
        #expect(chunked.headers.first("Transfer-Encoding") == "chunked")
        #expect(chunked.headers.first("Content-Length") == nil)
        #expect(chunked.bodyBytes == 300_000 && chunked.patternIntact && !chunked.closedByPeer)
        // The connection stays usable after a chunked answer.
        modern.send("GET /stream/10 HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(modern.readCounted().bodyBytes == 10)

        let old = try TestClient(port: server.port)
        old.send("GET /stream-unknown/300000 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let delimited = old.readCounted()
        #expect(delimited.status == 200)
        #expect(delimited.headers.first("Transfer-Encoding") == nil)
        #expect(delimited.headers.first("Connection") == "close")
        #expect(delimited.bodyBytes == 300_000 && delimited.patternIntact && delimited.closedByPeer)
    }

    @Test("HEAD, 204 and 304 answers carry no body, whatever the handler writes")
    func bodylessAnswers() throws {
        let server = try TestServer(handler: StreamingTestHandler())
        defer { server.stop() }
        let client = try TestClient(port: server.port)
        client.send(
            "HEAD /stream/5000 HTTP/1.1\r\nHost: a\r\n\r\nGET /nocontent HTTP/1.1\r\nHost: a\r\n\r\n"
                + "GET /notmodified HTTP/1.1\r\nHost: a\r\n\r\nGET /stream/3 HTTP/1.1\r\nHost: a\r\n\r\n")
        let raw = client.readRaw(until: "\r\n\r\n\u{0}\u{1}\u{2}")
        let heads = raw.components(separatedBy: "\r\n\r\n")
        #expect(heads.count == 5, "\(raw)")
        #expect(heads[0].hasPrefix("HTTP/1.1 200 ") && heads[0].contains("Content-Length: 5000"))
        #expect(heads[1].hasPrefix("HTTP/1.1 204 ") && !heads[1].contains("Content-Length"))
        #expect(heads[2].hasPrefix("HTTP/1.1 304 ") && heads[2].contains("Content-Length: 50"))
        #expect(heads[3].hasPrefix("HTTP/1.1 200 ") && heads[3].contains("Content-Length: 3"))
    }

    @Test("a handler that answers without reading gets no body: no 100 Continue, and the connection closes")
    func answerBeforeBody() throws {
        let handler = StreamingTestHandler()
        let server = try TestServer(handler: handler, limits: HTTPParserLimits(maxBodyBytes: 1 << 30))
        defer { server.stop() }
        let client = try TestClient(port: server.port)
        client.send(
            "POST /deny HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1073741824\r\n\r\n")
        let raw = client.readRaw(until: "denied")
        #expect(raw.hasPrefix("HTTP/1.1 401 "), "\(raw)")
        #expect(raw.contains("Connection: close"))
        #expect(!raw.contains("100 Continue"))
        #expect(client.waitForClose())
        #expect(handler.stats.withLock { $0.bodyBytes } == 0)
    }

    @Test("MAX_BODY_SIZE: a declared length past it is 413; a chunked body that runs past it closes mid-stream")
    func bodyLimit() throws {
        let handler = StreamingTestHandler()
        let server = try TestServer(handler: handler, limits: HTTPParserLimits(maxBodyBytes: 100_000))
        defer { server.stop() }
        let declared = try TestClient(port: server.port)
        declared.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100001\r\n\r\n")
        #expect(declared.readRaw(until: "}}").hasPrefix("HTTP/1.1 413 "))
        #expect(declared.waitForClose())

        let chunked = try TestClient(port: server.port)
        chunked.send("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
        let chunk = "ea60\r\n" + String(repeating: "x", count: 60_000) + "\r\n"
        chunked.send(chunk)
        // The first chunk goes on before the second passes the limit.
        for _ in 0..<250 where handler.stats.withLock({ $0.bodyBytes }) < 60_000 { usleep(20_000) }
        chunked.send(chunk)
        #expect(chunked.waitForClose())
        // The first chunk went on before the limit was passed; the handler is told the stream is gone.
        #expect(handler.stats.withLock { $0.bodyBytes } == 60_000)
        #expect(handler.stats.withLock { $0.closed } == 1)
    }

    @Test("pipelined requests are taken one at a time and answered in order")
    func pipelinedInOrder() throws {
        let server = try TestServer(handler: StreamingTestHandler())
        defer { server.stop() }
        let client = try TestClient(port: server.port)
        client.send(
            "GET /stream/70000 HTTP/1.1\r\nHost: a\r\n\r\n"
                + "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
                + "GET /stream-unknown/5 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        let (responses, closed) = client.readResponses(3)
        #expect(responses.map(\.status) == [200, 200, 200])
        #expect(responses.first?.body.count == 70_000)
        #expect(responses.dropFirst().first.map { String(decoding: $0.body, as: UTF8.self) } == "n=3 parts=1")
        #expect(responses.last?.body == [0, 1, 2, 3, 4])
        #expect(closed || client.waitForClose())
    }
}

extension StreamingServerTests {
    @Test("an unread body that came whole with its head is dropped, and the connection carries the next request")
    func smallUnreadBodyKeepsAlive() throws {
        let handler = StreamingTestHandler()
        let server = try TestServer(handler: handler)
        defer { server.stop() }
        let client = try TestClient(port: server.port)
        client.send(
            "POST /deny HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
                + "GET /stream/4 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        let (responses, _) = client.readResponses(2)
        #expect(responses.map(\.status) == [401, 200])
        #expect(responses.last?.body == [0, 1, 2, 3])
        #expect(handler.stats.withLock { $0.bodyBytes } == 0)
    }
}

extension StreamingServerTests {
    @Test("a client that hangs up while its handler decides elsewhere: the late delegate is told at once")
    func lateDelegateAfterHangUp() throws {
        let handler = StreamingTestHandler()
        let server = try TestServer(handler: handler)
        defer { server.stop() }
        do {
            let client = try TestClient(port: server.port)
            client.send("GET /late HTTP/1.1\r\nHost: a\r\n\r\n")
            usleep(50_000)
        }
        for _ in 0..<150 where handler.stats.withLock({ $0.closed }) == 0 { usleep(20_000) }
        #expect(handler.stats.withLock { $0.closed } == 1)
        #expect(handler.stats.withLock { $0.produced } == 0)
        #expect(server.server.openConnectionCount == 0)
    }
}

extension StreamingServerTests {
    @Test("a streaming handler that reads the body: every rejected framing vector is answered with its status")
    func framingVectorsWhileStreaming() throws {
        let server = try TestServer(handler: StreamingTestHandler())
        defer { server.stop() }
        let prefix = Array("POST / ".utf8)
        for vector in try FramingVector.load() where vector.expect == "reject" && vector.raw.starts(with: prefix) {
            // The body is read by the handler (`/echo`), so a body error meets a stream in progress.
            let client = try TestClient(port: server.port)
            client.send(Array("POST /echo ".utf8) + vector.raw.dropFirst(prefix.count))
            let (responses, closed) = client.readResponses(1)
            let status = responses.last?.status ?? 0
            #expect(vector.statuses.isEmpty ? status >= 400 : vector.statuses.contains(status), "\(vector.name)")
            if let body = responses.last?.body {
                #expect(String(decoding: body, as: UTF8.self).hasPrefix(#"{"error":{"code":"E93"#), "\(vector.name)")
            }
            #expect(closed || client.waitForClose(), "\(vector.name): connection left open")
        }
    }
}
