import Foundation
import HTTPCodec
import Net
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("HTTPServer body deadline over real sockets", .serialized)
struct SlowBodyTests {
    /// Sends `count` body bytes, one every `intervalMilliseconds`, on `fd`; stops early when the peer closes.
    static func trickle(fd: Int32, count: Int, intervalMilliseconds: Int) {
        for _ in 0..<count {
            usleep(useconds_t(intervalMilliseconds * 1000))
            var byte = UInt8(ascii: "x")
            if Glibc.send(fd, &byte, 1, Int32(MSG_NOSIGNAL)) != 1 { return }
        }
    }

    @Test(
        "a body sent one byte at a time, each within the progress timeout, still ends at the total deadline",
        arguments: [
            // (total deadline ms, body bytes, expected status): the trickle takes about bytes × 100 ms.
            (700, 40, 408), (10_000, 8, 200),
        ])
    func trickledBody(totalMilliseconds: UInt64, bytes: Int, expected: Int) throws {
        let timeouts = HTTPServerTimeouts(
            bodyProgressNanoseconds: 300_000_000, bodyTotalNanoseconds: totalMilliseconds * 1_000_000)
        let handler = RecordingHandler()
        let server = try TestServer(handler: handler, timeouts: timeouts)
        defer { server.stop() }
        let client = try TestClient(port: server.port, timeoutMilliseconds: 6000)
        client.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: \(bytes)\r\n\r\n")
        let started = ContinuousClock.now
        // A thread of its own: on a shared pool, a late wake-up would look like a stalled client.
        let sent = DispatchSemaphore(value: 0)
        let fd = client.fd
        Thread {
            Self.trickle(fd: fd, count: bytes, intervalMilliseconds: 100)
            sent.signal()
        }.start()
        let (responses, _) = client.readResponses(1, method: "POST")
        let elapsed = ContinuousClock.now - started
        #expect(responses.first?.status == expected)
        if expected == 408 {
            // Well before the trickle would end (4 s), and not before the total deadline.
            #expect(elapsed >= .milliseconds(650) && elapsed < .milliseconds(2500))
            #expect(client.waitForClose())
            #expect(handler.requests.isEmpty)
        } else {
            #expect(handler.requests.first?.body == [UInt8](repeating: UInt8(ascii: "x"), count: bytes))
        }
        sent.wait()
    }
}
