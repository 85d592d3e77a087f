import Foundation
import HTTPCodec
import Net
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A raw upstream that answers the first request with keep-alive, then closes that connection as soon as the
/// second request arrives on it, unanswered: a pooled connection that went stale while the request was in flight.
/// Later connections, if any come, get one `fresh` answer each.
final class StaleAfterOneUpstream: Sendable {
    let port: Int
    /// Connections accepted so far.
    let accepted = Atomic<Int>(0)
    /// The request lines seen, in order, across all connections.
    let requestLines = Mutex<[String]>([])
    private let listener: Int32

    init() {
        let (fd, chosenPort) = boundLoopbackSocket()
        // accept() and, inherited by accepted sockets, recv() give up after 10 minutes, so the serving thread
        // always ends. Generous: in a full parallel `swift test` on 2 cores the test's own continuation waited up
        // to a minute for a free thread, and a shorter wait here closed the pooled connection before the second
        // request came.
        var timeout = timeval(tv_sec: 600, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        listen(fd, 4)
        listener = fd
        port = chosenPort
        // A thread of its own: blocking in accept/recv on Dispatch's small global pool starves other tests.
        Thread { self.serve() }.start()
    }

    private func serve() {
        defer { close(listener) }
        let first = accept(listener, nil, nil)
        guard first >= 0 else { return }
        accepted.add(1, ordering: .relaxed)
        _ = readHead(first)
        reply(first, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst")
        _ = readHead(first)
        close(first)
        while true {
            let next = accept(listener, nil, nil)
            guard next >= 0 else { return }
            accepted.add(1, ordering: .relaxed)
            _ = readHead(next)
            reply(next, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh")
            close(next)
        }
    }

    /// Reads until the end of a head (bodies here are short and come with it), recording the request line.
    private func readHead(_ fd: Int32) -> Bool {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !String(decoding: received, as: UTF8.self).contains("\r\n\r\n") {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return false }
            received += buffer[..<n]
        }
        let line = String(decoding: received.prefix { $0 != UInt8(ascii: "\r") }, as: UTF8.self)
        requestLines.withLock { $0.append(line) }
        return true
    }

    private func reply(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
}

@Suite("UpstreamClient: a pooled connection that closes with the request in flight")
struct UpstreamRetryTests {
    private func request(_ method: String, _ target: String) -> HTTPRequest {
        var request = HTTPRequest(method: method, target: target, headers: HTTPHeaders([("Host", "u")]))
        if method == "POST" { request.body = Array("data".utf8) }
        return request
    }

    /// Sends a GET that pools the connection, then `second` on it; returns the second result.
    private func afterPooledGET(
        _ second: HTTPRequest, upstream: StaleAfterOneUpstream
    ) async throws -> Result<HTTPResponse, UpstreamError> {
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let client = UpstreamClient.patient()
        let loop = group.loops[0]
        let first = try await UpstreamClientTests.call(client, request("GET", "/one"), port: upstream.port, loop: loop)
        #expect(try first.get().body == Array("first".utf8))
        return try await UpstreamClientTests.call(client, second, port: upstream.port, loop: loop)
    }

    @Test("an idempotent GET is retried once on a fresh connection, transparently")
    func getIsRetried() async throws {
        let upstream = StaleAfterOneUpstream()
        let second = try await afterPooledGET(request("GET", "/two"), upstream: upstream)
        #expect(try second.get().body == Array("fresh".utf8))
        #expect(upstream.accepted.load(ordering: .relaxed) == 2)
        let lines = upstream.requestLines.withLock { $0 }
        #expect(lines == ["GET /one HTTP/1.1", "GET /two HTTP/1.1", "GET /two HTTP/1.1"])
    }

    /// A POST is not idempotent: the upstream may have acted on the bytes it read before closing, so sending
    /// it again could apply it twice. It fails with `closedEarly` (502) and no second connection is opened.
    @Test("a POST in the same situation is not retried: 502 closedEarly, and the upstream sees it once")
    func postIsNotRetried() async throws {
        let upstream = StaleAfterOneUpstream()
        let second = try await afterPooledGET(request("POST", "/p"), upstream: upstream)
        #expect(throws: UpstreamError(.closedEarly)) { try second.get() }
        #expect(UpstreamError(.closedEarly).status == 502)
        #expect(upstream.accepted.load(ordering: .relaxed) == 1)
        #expect(upstream.requestLines.withLock { $0 } == ["GET /one HTTP/1.1", "POST /p HTTP/1.1"])
    }
}
