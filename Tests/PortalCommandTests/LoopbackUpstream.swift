import Foundation
import HTTPCodec
import Net
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// An upstream for process tests, served by `Net` on a loop of the test process:
/// `GET /<any>/N` answers N pattern bytes as fast as the connection takes them (never buffering them), any
/// `POST` reads its body and answers `n=<bytes>`. Connection caps and body timeouts are lifted far above the
/// gateway's, so that what a test sees cut was cut by the gateway.
final class LoopbackUpstream {
    let group: EventLoopGroup
    let server: HTTPServer
    let handler = Handler()

    init() throws {
        group = try EventLoopGroup(threads: 1)
        server = HTTPServer(
            host: "127.0.0.1", port: 0, group: group, handler: handler,
            limits: HTTPParserLimits(maxBodyBytes: 1 << 40),
            timeouts: HTTPServerTimeouts(
                bodyProgressNanoseconds: 120_000_000_000, bodyTotalNanoseconds: 600_000_000_000),
            connectionLimits: HTTPServerConnectionLimits(maxConnections: 100_000, maxConnectionsPerAddress: 100_000))
        try server.start()
    }

    var port: Int { server.port }

    func stop() {
        server.shutdown(deadline: .milliseconds(200))
        group.shutdown()
    }

    static let pattern: [UInt8] = (0..<65_536).map { UInt8($0 % 251) }

    final class Handler: HTTPStreamingHandler {
        /// Streams closed before their answer ended (the gateway let go of them).
        let abandoned = Atomic<Int>(0)

        func handle(_ request: HTTPRequest, stream: any HTTPServerStream) {
            if request.method == "POST" {
                let sink = Sink(stream: stream, handler: self)
                stream.delegate = sink
                stream.readBody()
                return
            }
            let total = Int(request.path.split(separator: "/").last ?? "") ?? 0
            Source(stream: stream, handler: self, remaining: total).start(total: total)
        }
    }

    /// Counts a request body and answers its size.
    final class Sink: HTTPServerStreamDelegate {
        let stream: any HTTPServerStream
        let handler: Handler
        var bytes = 0

        init(stream: any HTTPServerStream, handler: Handler) {
            self.stream = stream
            self.handler = handler
        }

        func streamBodyReceived(_ bytes: UnsafeRawBufferPointer) { self.bytes += bytes.count }

        func streamBodyEnded() { stream.respond(HTTPResponse(status: 200, body: Array("n=\(bytes)".utf8))) }

        func streamWritabilityChanged(_ writable: Bool) {}

        func streamClosed() { handler.abandoned.add(1, ordering: .relaxed) }
    }

    /// Writes pattern bytes while the connection is writable.
    final class Source: HTTPServerStreamDelegate {
        let stream: any HTTPServerStream
        let handler: Handler
        var remaining: Int
        var closed = false

        init(stream: any HTTPServerStream, handler: Handler, remaining: Int) {
            self.stream = stream
            self.handler = handler
            self.remaining = remaining
        }

        func start(total: Int) {
            stream.delegate = self
            stream.writeHead(HTTPResponse(status: 200), bodyLength: .known(total))
            pump()
        }

        private func pump() {
            while remaining > 0, stream.isWritable, !closed {
                let n = min(remaining, LoopbackUpstream.pattern.count)
                LoopbackUpstream.pattern.withUnsafeBytes {
                    stream.writeBody(UnsafeRawBufferPointer(rebasing: $0[..<n]))
                }
                remaining -= n
            }
            if remaining == 0, !closed { stream.endResponse() }
        }

        func streamBodyReceived(_ bytes: UnsafeRawBufferPointer) {}

        func streamBodyEnded() {}

        func streamWritabilityChanged(_ writable: Bool) { if writable { pump() } }

        func streamClosed() {
            closed = true
            handler.abandoned.add(1, ordering: .relaxed)
        }
    }
}

/// A blocking client socket for process tests, from a chosen loopback source address.
final class RawClient {
    let fd: Int32

    /// Connects to 127.0.0.1:`port`; `receiveBufferBytes` fixes the receive buffer (no kernel autotuning).
    init(port: Int, source: String? = nil, receiveBufferBytes: Int32? = nil, timeoutSeconds: Int = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBufferBytes {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(source)
            _ = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            close(fd)
            throw RunningPortal.StartFailure(description: "connect to \(port) failed: errno \(errno)")
        }
    }

    deinit { close(fd) }

    /// Sends everything; false when the peer is gone.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var at = 0
        while at < bytes.count {
            let n = bytes[at...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            at += n
        }
        return true
    }

    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Reads until `count` bytes arrived or the peer closed; returns the bytes read (the head included).
    func receive(atLeast count: Int, keep: Int = 4096) -> (bytes: Int, start: [UInt8]) {
        var scratch = [UInt8](repeating: 0, count: 65_536)
        var total = 0
        var start: [UInt8] = []
        while total < count {
            let n = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            if start.count < keep { start.append(contentsOf: scratch[..<min(n, keep - start.count)]) }
            total += n
        }
        return (total, start)
    }
}

/// The resident set of process `pid` in bytes, from /proc (VmRSS), or nil when it cannot be read.
func residentBytes(of pid: Int32) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let digits = line.split(separator: " ").dropFirst().first
        return digits.flatMap { Int($0) }.map { $0 * 1024 }
    }
    return nil
}
