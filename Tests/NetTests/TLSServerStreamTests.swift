import Net
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("HTTPServer over TLS: pipelining, large answers, silent and plain-HTTP clients", .serialized)
struct TLSServerStreamTests {
    @Test("pipelined requests in one TLS write are answered in order, a slow first one too, then close_notify")
    func pipelined() throws {
        let server = try TLSTestServer()
        defer { server.stop() }
        let result = server.python(
            """
            import socket, ssl
            c = ssl.create_default_context(cafile=CA)
            # A missing close_notify after the last answer raises instead of reading as EOF.
            s = c.wrap_socket(socket.create_connection(("127.0.0.1", PORT), timeout=10),
                              server_hostname="portal.test", suppress_ragged_eofs=False)
            h = "Host: portal.test\\r\\n"
            s.sendall(("GET /slow-1 HTTP/1.1\\r\\n" + h + "\\r\\n" + "GET /2 HTTP/1.1\\r\\n" + h + "\\r\\n"
                       + "GET /3 HTTP/1.1\\r\\n" + h + "Connection: close\\r\\n\\r\\n").encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk: break
                data += chunk
            print(data.decode())
            """)
        #expect(result.status == 0, "\(result.output)")
        let order = ["target=/slow-1", "target=/2", "target=/3"].map { result.output.range(of: $0)?.lowerBound }
        #expect(order.allSatisfy { $0 != nil }, "\(result.output)")
        if let first = order[0], let second = order[1], let third = order[2] {
            #expect(first < second && second < third, "\(result.output)")
        }
    }

    @Test("a 5 MiB answer arrives intact over TLS 1.3 and TLS 1.2")
    func largeResponse() throws {
        let server = try TLSTestServer()
        defer { server.stop() }
        for version in ["TLSv1_3", "TLSv1_2"] {
            let result = server.python(
                """
                import socket, ssl
                c = ssl.create_default_context(cafile=CA)
                c.minimum_version = c.maximum_version = ssl.TLSVersion.\(version)
                s = c.wrap_socket(socket.create_connection(("127.0.0.1", PORT), timeout=20),
                                  server_hostname="portal.test")
                s.sendall(b"GET /big HTTP/1.1\\r\\nHost: portal.test\\r\\nConnection: close\\r\\n\\r\\n")
                data = b""
                while True:
                    chunk = s.recv(1 << 20)
                    if not chunk: break
                    data += chunk
                head, _, body = data.partition(b"\\r\\n\\r\\n")
                n = \(ConnectionReportingHandler.bigSize)
                print(head.split(b"\\r\\n")[0].decode(), len(body), body == bytes(i % 251 for i in range(n)))
                """)
            #expect(result.status == 0, "\(result.output)")
            #expect(
                result.output.hasPrefix("HTTP/1.1 200 OK \(ConnectionReportingHandler.bigSize) True"),
                "\(version): \(result.output)")
        }
    }

    @Test("a client that opens TCP and never starts the handshake is closed after the handshake timeout, no 408")
    func handshakeTimeout() throws {
        let server = try TLSTestServer(timeouts: HTTPServerTimeouts(handshakeNanoseconds: 300_000_000))
        defer { server.stop() }
        let client = try TestClient(port: server.port, timeoutMilliseconds: 3000)
        let started = ContinuousClock.now
        #expect(client.readRaw(until: "never").isEmpty, "no HTTP answer may be written before a handshake")
        let elapsed = ContinuousClock.now - started
        // Closed by the server (a timeout of the client's read would take 3 s).
        #expect(elapsed >= .milliseconds(250) && elapsed < .milliseconds(2500), "closed after \(elapsed)")
        #expect(server.waitForFailedHandshakes(1))
        // The count drops just after the failure is counted, on the loop thread.
        var open = server.server.openConnectionCount
        for _ in 0..<100 where open != 0 {
            usleep(10_000)
            open = server.server.openConnectionCount
        }
        #expect(open == 0)
    }

    @Test("a half-finished handshake is also cut by the handshake timeout")
    func partialHandshake() throws {
        let server = try TLSTestServer(timeouts: HTTPServerTimeouts(handshakeNanoseconds: 300_000_000))
        defer { server.stop() }
        let client = try TestClient(port: server.port, timeoutMilliseconds: 3000)
        // The first bytes of a TLS record header of a ClientHello, then nothing.
        client.send([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        #expect(client.waitForClose())
        #expect(server.waitForFailedHandshakes(1))
    }

    @Test("plain HTTP sent to the TLS port fails the handshake, closes, counts, and the server goes on serving")
    func plainHTTP() throws {
        let server = try TLSTestServer()
        defer { server.stop() }
        let hostile = [
            "GET / HTTP/1.1\r\nHost: portal.test\r\n\r\n",
            "POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
            "\r\n\r\n\u{0}\u{0}\u{0}garbage",
            String(repeating: "A", count: 70_000),
        ]
        for (index, text) in hostile.enumerated() {
            let client = try TestClient(port: server.port, timeoutMilliseconds: 3000)
            client.send(text)
            let answer = client.readRaw(until: "never")
            #expect(!answer.contains("HTTP/1.1"), "no plaintext answer to \(text.prefix(20))")
            #expect(server.waitForFailedHandshakes(UInt64(index + 1)), "\(text.prefix(20))")
        }
        let after = server.curl(["/still"], [])
        #expect(after.status == 0 && after.output.contains("target=/still"), "\(after.output)")
    }
}
