import HTTPCodec
import Net
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("HTTPServer connection handling over real sockets")
struct HTTPServerTests {
    @Test("keep-alive serves several requests on one connection")
    func keepAlive() throws {
        let handler = RecordingHandler()
        let server = try TestServer(handler: handler)
        defer { server.stop() }
        let client = try TestClient(port: server.port)
        for i in 0..<3 {
            client.send("GET /k\(i) HTTP/1.1\r\nHost: a\r\n\r\n")
            let (responses, closed) = client.readResponses(1)
            #expect(!closed)
            #expect(responses.first?.body == Array("/k\(i)".utf8))
            #expect(responses.first?.headers.first("X-Peer") == "127.0.0.1")
        }
    }

    @Test("pipelined responses come in request order when the first is answered last")
    func pipeliningOrder() throws {
        let handler = RecordingHandler()
        let server = try TestServer(handler: handler)
        defer { server.stop() }
        let client = try TestClient(port: server.port)
        client.send(
            "GET /slow HTTP/1.1\r\nHost: a\r\n\r\nGET /fast1 HTTP/1.1\r\nHost: a\r\n\r\n"
                + "GET /fast2 HTTP/1.1\r\nHost: a\r\n\r\n")
        let (responses, _) = client.readResponses(3)
        #expect(responses.map { String(decoding: $0.body, as: UTF8.self) } == ["/slow", "/fast1", "/fast2"])
    }

    @Test(
        "Connection: close and HTTP/1.0 without keep-alive close after the answer; 1.0 keep-alive stays open",
        arguments: [
            ("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", true),
            ("GET / HTTP/1.0\r\n\r\n", true),
            ("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", false),
            ("GET / HTTP/1.1\r\nHost: a\r\n\r\n", false),
        ])
    func closing(raw: String, closes: Bool) throws {
        let server = try TestServer(
            handler: RecordingHandler(), timeouts: HTTPServerTimeouts(idleNanoseconds: 400_000_000))
        defer { server.stop() }
        let client = try TestClient(port: server.port, timeoutMilliseconds: 200)
        client.send(raw)
        let (responses, _) = client.readResponses(1)
        #expect(responses.first?.status == 200)
        #expect((responses.first?.headers.first("Connection") == "close") == closes)
        #expect(client.waitForClose() == closes)
    }

    @Test("limits answer 413, 414 and 431 with a JSON error and close")
    func limits() throws {
        let limits = HTTPParserLimits(maxHeaderBytes: 256, maxHeaderFields: 5, maxTargetBytes: 64, maxBodyBytes: 10)
        let handler = RecordingHandler()
        let server = try TestServer(handler: handler, limits: limits)
        defer { server.stop() }
        let cases: [(String, Int)] = [
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world", 413),
            ("GET /\(String(repeating: "a", count: 64)) HTTP/1.1\r\nHost: a\r\n\r\n", 414),
            ("GET / HTTP/1.1\r\nHost: a\r\nX: \(String(repeating: "b", count: 300))\r\n\r\n", 431),
            ("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\n\r\n", 431),
        ]
        for (raw, status) in cases {
            let client = try TestClient(port: server.port)
            client.send(raw)
            let (responses, closed) = client.readResponses(1)
            #expect(responses.first?.status == status, "\(status)")
            #expect(responses.first?.headers.first("Content-Type") == "application/json")
            #expect(closed || client.waitForClose())
        }
        #expect(handler.requests.isEmpty)
    }

    @Test("a head that stalls gets 408 and a close; an idle connection is closed silently")
    func timeouts() throws {
        let timeouts = HTTPServerTimeouts(
            headNanoseconds: 200_000_000, idleNanoseconds: 200_000_000,
            bodyProgressNanoseconds: 200_000_000)
        let server = try TestServer(handler: RecordingHandler(), timeouts: timeouts)
        defer { server.stop() }
        let stalled = try TestClient(port: server.port)
        stalled.send("GET / HTTP/1.1\r\nHost:")
        let (responses, closed) = stalled.readResponses(1)
        #expect(responses.first?.status == 408)
        #expect(closed || stalled.waitForClose())

        let body = try TestClient(port: server.port)
        body.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\nabc")
        #expect(body.readResponses(1).responses.first?.status == 408)

        let idle = try TestClient(port: server.port)
        idle.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(idle.readResponses(1).responses.first?.status == 200)
        let start = EventLoopTestClock.now()
        let (late, idleClosed) = idle.readResponses(1)
        #expect(late.isEmpty && idleClosed)
        #expect(EventLoopTestClock.now() - start < 2_000_000_000)
    }

    @Test("every hostile case is answered with its status over a socket, and the handler never sees it")
    func hostileOverSocket() throws {
        let handler = RecordingHandler()
        let server = try TestServer(handler: handler)
        defer { server.stop() }
        var rejected = 0
        for c in SocketHostileCases.table {
            let client = try TestClient(port: server.port)
            client.send(c.raw)
            let (responses, closed) = client.readResponses(1)
            #expect(responses.first?.status == c.status, "\(c.label)")
            #expect(closed || client.waitForClose(), "\(c.label)")
            rejected += 1
        }
        #expect(rejected >= 100)
        #expect(handler.requests.isEmpty)
    }

    @Test("binding a port in use fails with a clear message")
    func portInUse() throws {
        // A plain listener without SO_REUSEPORT holds the port, so the server's bind must fail.
        let (fd, port) = boundLoopbackSocket()
        defer { close(fd) }
        listen(fd, 1)
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let server = HTTPServer(host: "127.0.0.1", port: port, group: group, handler: RecordingHandler())
        #expect {
            try server.start()
        } throws: { error in
            "\(error)" == "address 127.0.0.1:\(port) in use"
        }
    }

    @Test("graceful shutdown lets an in-flight request finish, then closes")
    func gracefulShutdown() throws {
        let group = try EventLoopGroup(threads: 2)
        defer { group.shutdown() }
        let server = HTTPServer(host: "127.0.0.1", port: 0, group: group, handler: RecordingHandler())
        try server.start()
        let client = try TestClient(port: server.port)
        client.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
        usleep(30_000)
        server.shutdown(deadline: .seconds(2))
        let (responses, _) = client.readResponses(1)
        #expect(responses.first?.status == 200)
        #expect(responses.first?.headers.first("Connection") == "close")
        #expect(throws: (any Error).self) { try TestClient(port: server.port) }
    }
}

/// Monotonic nanoseconds for bounding waits in tests.
enum EventLoopTestClock {
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// Hostile requests for the socket test: every control byte in target, name and value, and bad versions.
enum SocketHostileCases {
    struct Case {
        var label: String
        var raw: [UInt8]
        var status: Int
    }

    static var table: [Case] {
        let ctls: [UInt8] = Array(0x00...0x1F).filter { $0 != 0x09 } + [0x7F]
        var cases: [Case] = []
        for b in ctls {
            cases.append(
                Case(
                    label: "target \(b)", raw: Array("GET /a".utf8) + [b] + Array(" HTTP/1.1\r\nHost: a\r\n\r\n".utf8),
                    status: 400))
            cases.append(
                Case(
                    label: "name \(b)",
                    raw: Array("GET / HTTP/1.1\r\nHost: a\r\nX".utf8) + [b]
                        + Array(": v\r\n\r\n".utf8), status: 400))
            cases.append(
                Case(
                    label: "value \(b)",
                    raw: Array("GET / HTTP/1.1\r\nHost: a\r\nX: a".utf8) + [b]
                        + Array("b\r\n\r\n".utf8), status: 400))
        }
        for b in UInt8(0x80)...UInt8(0xFF) {
            cases.append(
                Case(
                    label: "target \(b)", raw: Array("GET /".utf8) + [b] + Array(" HTTP/1.1\r\nHost: a\r\n\r\n".utf8),
                    status: 400))
        }
        for v in ["HTTP/1.2", "HTTP/2.0"] {
            cases.append(Case(label: v, raw: Array("GET / \(v)\r\nHost: a\r\n\r\n".utf8), status: 505))
        }
        cases.append(
            Case(
                label: "gzip", raw: Array("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n".utf8),
                status: 501))
        return cases
    }
}
