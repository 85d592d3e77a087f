import Foundation
import HTTPCodec
import Net
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Answers every request with `size` bytes and counts the requests it was given.
final class SizedAnswerHandler: HTTPHandler {
    let size: Int
    let count = Atomic<Int>(0)

    init(size: Int) { self.size = size }

    func handle(
        _ request: HTTPRequest, connection: ConnectionInfo, loop: EventLoop,
        respond: @escaping @Sendable (HTTPResponse) -> Void
    ) {
        count.add(1, ordering: .relaxed)
        respond(HTTPResponse(status: 200, body: [UInt8](repeating: 0x61, count: size)))
    }
}

@Suite("HTTPServer: bounded outbound buffers and the write timeout, over real sockets")
struct OutputBoundTests {
    /// The most a server can have handed to the kernel for a client whose receive buffer is fixed small: its own
    /// send buffer (tcp_wmem's maximum, 4 MiB here) plus the client's doubled 64 KiB, with room to spare.
    static let kernelAllowance = 6 * 1024 * 1024

    @Test("a client that stops reading stops a streaming producer; once it reads it gets every byte")
    func streamingBackpressure() throws {
        let handler = StreamingTestHandler()
        let server = try TestServer(handler: handler)
        defer { server.stop() }
        let total = 64 * 1024 * 1024
        let client = try TestClient(port: server.port, timeoutMilliseconds: 10_000, receiveBufferBytes: 65_536)
        client.send("GET /stream/\(total) HTTP/1.1\r\nHost: a\r\n\r\n")
        usleep(1_000_000)
        let stalled = handler.stats.withLock { $0.produced }
        // Without backpressure the producer would have written all 64 MiB into memory by now.
        #expect(stalled < Self.kernelAllowance + 256 * 1024, "produced \(stalled) bytes for a client that read none")
        #expect(handler.stats.withLock { $0.pausedOnce })
        let response = client.readCounted()
        #expect(response.bodyBytes == total && response.patternIntact)
        #expect(handler.stats.withLock { $0.produced } == total)
    }

    @Test("a client that never reads is dropped after the write timeout, and the producer is told")
    func writeTimeout() throws {
        let handler = StreamingTestHandler()
        let server = try TestServer(handler: handler, timeouts: HTTPServerTimeouts(writeNanoseconds: 500_000_000))
        defer { server.stop() }
        let client = try TestClient(port: server.port, timeoutMilliseconds: 10_000, receiveBufferBytes: 65_536)
        client.send("GET /stream/67108864 HTTP/1.1\r\nHost: a\r\n\r\n")
        let started = ContinuousClock.now
        var closed = 0
        while closed == 0, ContinuousClock.now - started < .seconds(8) {
            usleep(50_000)
            closed = handler.stats.withLock { $0.closed }
        }
        #expect(closed == 1)
        #expect(ContinuousClock.now - started >= .milliseconds(450))
        #expect(server.server.openConnectionCount == 0)
    }

    @Test("a buffered handler is given no more pipelined requests while its client does not read the answers")
    func bufferedBackpressure() throws {
        let handler = SizedAnswerHandler(size: 512 * 1024)
        let server = try TestServer(handler: handler)
        defer { server.stop() }
        let client = try TestClient(port: server.port, timeoutMilliseconds: 10_000, receiveBufferBytes: 65_536)
        let requests = 100
        client.send(String(repeating: "GET /a HTTP/1.1\r\nHost: a\r\n\r\n", count: requests))
        usleep(1_000_000)
        let answered = handler.count.load(ordering: .relaxed)
        // Each answer is 512 KiB: only what fits the kernel's buffers and one high-water mark was made.
        #expect(answered <= Self.kernelAllowance / (512 * 1024) + 2, "\(answered) answers made for a stalled client")
        let (responses, _) = client.readResponses(requests)
        #expect(responses.count == requests)
        #expect(responses.allSatisfy { $0.body.count == 512 * 1024 })
    }
}
