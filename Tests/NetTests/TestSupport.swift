import Dispatch
import HTTPCodec
import Net
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What a recording handler was asked.
struct Seen: Sendable, Equatable {
    var method: String
    var target: String
    var body: [UInt8]
}

/// Records every request and answers 200 with the target as body; `/slow...` targets answer after 150 ms
/// from another thread, so later pipelined requests complete first.
final class RecordingHandler: HTTPHandler {
    let seen = Mutex<[Seen]>([])

    var requests: [Seen] { seen.withLock { $0 } }

    func handle(
        _ request: HTTPRequest, connection: ConnectionInfo, loop: EventLoop,
        respond: @escaping @Sendable (HTTPResponse) -> Void
    ) {
        seen.withLock { $0.append(Seen(method: request.method, target: request.target, body: request.body)) }
        let response = HTTPResponse(
            status: 200, headers: HTTPHeaders([("X-Peer", connection.remoteAddress)]),
            body: Array(request.target.utf8))
        if request.target.hasPrefix("/slow") {
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(150)) { respond(response) }
        } else {
            respond(response)
        }
    }
}

/// A blocking client socket for tests, every wait bounded by a receive timeout.
final class TestClient {
    let fd: Int32

    /// Connects to 127.0.0.1:`port`, from the loopback address `source` when given (e.g. "127.0.0.2").
    /// `receiveBufferBytes` fixes the socket's receive buffer (the kernel doubles it), so that what a server
    /// manages to send to a client that does not read is bounded by known kernel buffers.
    init(port: Int, timeoutMilliseconds: Int = 3000, source: String? = nil, receiveBufferBytes: Int? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBufferBytes.map(Int32.init) {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(source)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard bound == 0 else {
                close(fd)
                throw SyscallError(call: "bind", errno: errno)
            }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var tv = timeval(tv_sec: timeoutMilliseconds / 1000, tv_usec: Int((timeoutMilliseconds % 1000) * 1000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(fd)
            throw SyscallError(call: "connect", errno: errno)
        }
    }

    deinit { close(fd) }

    /// Sends everything; a server that closed early may cut this short, which tests tolerate.
    func send(_ bytes: [UInt8]) {
        var at = 0
        while at < bytes.count {
            let n = bytes[at...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            at += n
        }
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    /// Reads until `count` responses are parsed, the peer closes, or the timeout passes.
    /// - Returns: the responses and whether the peer closed.
    func readResponses(_ count: Int = 1, method: String = "GET") -> (responses: [HTTPResponse], closed: Bool) {
        var parser = HTTPResponseParser()
        parser.expectResponse(toMethod: method)
        var responses: [HTTPResponse] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            while let r = try? parser.next() {
                responses.append(r)
                parser.expectResponse(toMethod: method)
            }
            if responses.count >= count { return (responses, false) }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 {
                if let r = try? parser.finish() { responses.append(r) }
                return (responses, true)
            }
            if n < 0 { return (responses, errno == ECONNRESET) }
            buffer.withUnsafeBytes { parser.feed(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
        }
    }

    /// Reads raw bytes until `marker` has arrived, the peer closes, or the timeout passes.
    func readRaw(until marker: String) -> String {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !String(decoding: received, as: UTF8.self).contains(marker) {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received += buffer[..<n]
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// Whether the peer closes (EOF or reset) within the receive timeout, discarding any bytes.
    func waitForClose() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }
}

/// A started server on 127.0.0.1 with a port chosen by the kernel, and its group.
struct TestServer {
    let group: EventLoopGroup
    let server: HTTPServer

    init(
        handler: any HTTPHandler, limits: HTTPParserLimits = HTTPParserLimits(),
        timeouts: HTTPServerTimeouts = HTTPServerTimeouts(), threads: Int = 1
    ) throws {
        group = try EventLoopGroup(threads: threads)
        server = HTTPServer(
            host: "127.0.0.1", port: 0, group: group, handler: handler, limits: limits,
            timeouts: timeouts)
        try server.start()
    }

    var port: Int { server.port }

    func stop() {
        server.shutdown(deadline: .milliseconds(500))
        group.shutdown()
    }
}

/// A plain TCP socket bound to 127.0.0.1 on a port the kernel chose, not yet listening.
func boundLoopbackSocket() -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            _ = bind(fd, $0, length)
            _ = getsockname(fd, $0, &length)
        }
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}

extension UpstreamClient {
    /// A client whose pooled connections stay idle for 10 minutes: tests about reuse must not depend on how long
    /// a loaded machine keeps the test's continuation waiting between two requests (the default is 30 s).
    static func patient() -> UpstreamClient {
        UpstreamClient(configuration: UpstreamClient.Configuration(idleTimeoutNanoseconds: 600_000_000_000))
    }
}
