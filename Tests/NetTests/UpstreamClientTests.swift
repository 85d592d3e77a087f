import Foundation
import HTTPCodec
import Net
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Records the peer port of every request and answers after `delayMilliseconds`.
final class PortRecordingHandler: HTTPHandler {
    let ports = Mutex<[Int]>([])
    let delayMilliseconds: Int

    init(delayMilliseconds: Int = 0) { self.delayMilliseconds = delayMilliseconds }

    func handle(
        _ request: HTTPRequest, connection: ConnectionInfo, loop: EventLoop,
        respond: @escaping @Sendable (HTTPResponse) -> Void
    ) {
        ports.withLock { $0.append(connection.remotePort) }
        let response = HTTPResponse(
            status: 201, headers: HTTPHeaders([("X-Method", request.method)]),
            body: Array("got \(request.target) \(request.body.count)".utf8))
        if delayMilliseconds == 0 { return respond(response) }
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(delayMilliseconds)) { respond(response) }
    }
}

/// A one-shot raw upstream: accepts one connection, reads a head, writes `reply` and closes.
func rawUpstream(reply: String) -> Int {
    let (fd, port) = boundLoopbackSocket()
    listen(fd, 4)
    // A thread of its own: blocking in accept/recv on Dispatch's small global pool starves other tests.
    Thread {
        let client = accept(fd, nil, nil)
        var buffer = [UInt8](repeating: 0, count: 4096)
        _ = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
        let bytes = Array(reply.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        close(client)
        close(fd)
    }.start()
    return port
}

@Suite("UpstreamClient against real upstreams")
struct UpstreamClientTests {
    static func call(
        _ client: UpstreamClient, _ request: HTTPRequest, port: Int, loop: EventLoop,
        timeoutMilliseconds: UInt64 = 2000
    ) async throws -> Result<HTTPResponse, UpstreamError> {
        let address = try UpstreamAddress(host: "127.0.0.1", port: port)
        return await withCheckedContinuation { continuation in
            client.execute(request, to: address, on: loop, timeoutNanoseconds: timeoutMilliseconds * 1_000_000) {
                continuation.resume(returning: $0)
            }
        }
    }

    @Test("sequential requests reuse one pooled connection, and bodies travel both ways")
    func pooledReuse() async throws {
        let handler = PortRecordingHandler()
        let upstream = try TestServer(
            handler: handler, timeouts: HTTPServerTimeouts(idleNanoseconds: 600_000_000_000))
        defer { upstream.stop() }
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let client = UpstreamClient.patient()
        var request = HTTPRequest(method: "POST", target: "/p", headers: HTTPHeaders([("Host", "u")]))
        request.body = Array("hello".utf8)
        for _ in 0..<3 {
            let response = try await Self.call(client, request, port: upstream.port, loop: group.loops[0]).get()
            #expect(response.status == 201)
            #expect(response.body == Array("got /p 5".utf8))
            #expect(response.headers.first("x-method") == "POST")
        }
        let ports = handler.ports.withLock { $0 }
        #expect(ports.count == 3)
        #expect(Set(ports).count == 1)
    }

    @Test("a closed port fails with connectRefused, mapped to 502")
    func refused() async throws {
        let (fd, port) = boundLoopbackSocket()
        close(fd)
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let result = try await Self.call(
            UpstreamClient(), HTTPRequest(method: "GET", target: "/"), port: port,
            loop: group.loops[0])
        #expect(throws: UpstreamError(.connectRefused)) { try result.get() }
        #expect(UpstreamError(.connectRefused).status == 502)
    }

    @Test("a slow upstream fails with timeout, mapped to 504")
    func timeout() async throws {
        let upstream = try TestServer(handler: PortRecordingHandler(delayMilliseconds: 600))
        defer { upstream.stop() }
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let result = try await Self.call(
            UpstreamClient(),
            HTTPRequest(
                method: "GET", target: "/",
                headers:
                    HTTPHeaders([("Host", "u")])), port: upstream.port, loop: group.loops[0], timeoutMilliseconds: 100)
        #expect(throws: UpstreamError(.timeout)) { try result.get() }
        #expect(UpstreamError(.timeout).status == 504)
    }

    @Test(
        "responses framed by chunks, by close, and truncated ones",
        arguments: [
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: 1\r\n\r\n",
                "abcde"
            ),
            ("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "ok"),
            ("HTTP/1.0 200 OK\r\n\r\nuntil close", "until close"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", nil),
            ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", nil),
            ("HTTP/1.1 200 OK\nContent-Length: 2\r\n\r\nok", nil),
        ])
    func framing(reply: String, body: String?) async throws {
        let port = rawUpstream(reply: reply)
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let result = try await Self.call(
            UpstreamClient(), HTTPRequest(method: "GET", target: "/"), port: port,
            loop: group.loops[0])
        if let body {
            #expect(try result.get().body == Array(body.utf8))
        } else {
            #expect(throws: UpstreamError.self) { try result.get() }
        }
    }

    @Test(
        "the pool keeps as many idle connections as were in flight, up to its cap, and closes the rest",
        arguments: [(UpstreamClient.Configuration(), 24), (UpstreamClient.Configuration(maxIdlePerUpstream: 4), 44)])
    func idleCap(configuration: UpstreamClient.Configuration, expectedConnections: Int) async throws {
        let handler = PortRecordingHandler(delayMilliseconds: 100)
        let upstream = try TestServer(handler: handler)
        defer { upstream.stop() }
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let client = UpstreamClient(configuration: configuration)
        let loop = group.loops[0]
        // Two waves of 24 concurrent requests: the second reuses every connection the pool kept from the first.
        for _ in 0..<2 {
            try await withThrowingTaskGroup(of: Int.self) { tasks in
                for _ in 0..<24 {
                    tasks.addTask {
                        let request = HTTPRequest(method: "GET", target: "/", headers: HTTPHeaders([("Host", "u")]))
                        return try await Self.call(client, request, port: upstream.port, loop: loop).get().status
                    }
                }
                for try await status in tasks { #expect(status == 201) }
            }
        }
        #expect(Set(handler.ports.withLock { $0 }).count == expectedConnections)
    }

    @Test("an address that does not resolve is refused at construction")
    func unresolvable() {
        #expect(throws: UpstreamError(.connectFailed)) { try UpstreamAddress(host: "no such host.invalid", port: 80) }
        #expect(throws: UpstreamError(.connectFailed)) { try UpstreamAddress(host: "127.0.0.1", port: 70000) }
    }
}
