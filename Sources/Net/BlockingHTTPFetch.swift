import COpenSSL
import HTTPCodec

#if canImport(Glibc)
    import Glibc
#endif

/// One blocking `GET` over HTTP/1.1 or HTTPS, bounded by a deadline: for background threads that fetch a small
/// document now and then (a JWKS), never for an event loop and never per request.
///
/// HTTPS verifies the server's chain (against `caPath`, or the system's trust store) and its name (or IP
/// address), TLS 1.2 or later. Redirects are not followed. The body is limited to `maxBodyBytes`.
public enum BlockingHTTPFetch {
    /// The answer: status and body.
    public struct Response: Sendable {
        public let status: Int
        public let body: [UInt8]
    }

    /// Why a fetch failed, in one line that names no secret (the URL's path and query are never shown).
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// A parsed `http://` or `https://` URL.
    struct Target {
        var secure: Bool
        var host: String
        var port: Int
        var pathAndQuery: String

        init?(_ url: String) {
            let rest: Substring
            if url.hasPrefix("https://") {
                secure = true
                rest = url.dropFirst(8)
            } else if url.hasPrefix("http://") {
                secure = false
                rest = url.dropFirst(7)
            } else {
                return nil
            }
            let authority = rest.prefix { $0 != "/" && $0 != "?" }
            let path = rest.dropFirst(authority.count)
            pathAndQuery = path.isEmpty ? "/" : (path.hasPrefix("?") ? "/" + path : String(path))
            guard !authority.isEmpty, !authority.contains("@"), !url.contains("#"),
                url.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
            else { return nil }
            var hostPart = authority
            var portText: Substring?
            if authority.hasPrefix("[") {
                guard let close = authority.firstIndex(of: "]") else { return nil }
                hostPart = authority[authority.index(after: authority.startIndex)..<close]
                let after = authority[authority.index(after: close)...]
                if !after.isEmpty {
                    guard after.hasPrefix(":") else { return nil }
                    portText = after.dropFirst()
                }
            } else if let colon = authority.lastIndex(of: ":") {
                hostPart = authority[..<colon]
                portText = authority[authority.index(after: colon)...]
            }
            host = String(hostPart)
            if let portText {
                guard let value = Int(portText), (1...65535).contains(value) else { return nil }
                port = value
            } else {
                port = secure ? 443 : 80
            }
            guard !host.isEmpty else { return nil }
        }

        /// `Host` field value.
        var authority: String {
            let name = host.contains(":") ? "[\(host)]" : host
            return (port == (secure ? 443 : 80)) ? name : "\(name):\(port)"
        }
    }

    /// Fetches `url`; blocks the calling thread for at most about `timeoutSeconds`.
    /// - Parameters:
    ///   - url: `http://` or `https://` URL.
    ///   - timeoutSeconds: the whole exchange: resolve, connect, handshake, request and answer.
    ///   - caPath: PEM CA bundle for HTTPS; nil uses the system's trust store.
    ///   - maxBodyBytes: largest body accepted; default 1 MiB.
    /// - Throws: `Failure` naming the host and what went wrong.
    public static func get(
        _ url: String, timeoutSeconds: Double, caPath: String? = nil, maxBodyBytes: Int = 1 << 20
    ) throws(Failure) -> Response {
        guard let target = Target(url) else { throw Failure("not an http:// or https:// URL") }
        let deadline = EventLoop.now() &+ UInt64(max(0.001, timeoutSeconds) * 1_000_000_000)
        guard let address = SocketAddress.resolve(host: target.host, port: target.port) else {
            throw Failure("\(target.host): does not resolve")
        }
        let fd = try connect(address, target: target, deadline: deadline)
        defer { _ = close(fd) }
        let channel: any FetchChannel =
            target.secure
            ? try TLSFetchChannel(fd: fd, target: target, caPath: caPath, deadline: deadline)
            : PlainFetchChannel(fd: fd, host: target.host, deadline: deadline)
        let request =
            "GET \(target.pathAndQuery) HTTP/1.1\r\nHost: \(target.authority)\r\nAccept: application/json\r\n"
            + "User-Agent: story-portal\r\nConnection: close\r\n\r\n"
        try channel.write(Array(request.utf8))
        return try readResponse(channel, host: target.host, maxBodyBytes: maxBodyBytes)
    }

    private static func readResponse(_ channel: any FetchChannel, host: String, maxBodyBytes: Int) throws(Failure)
        -> Response
    {
        var parser = HTTPResponseParser(limits: HTTPParserLimits(maxBodyBytes: maxBodyBytes))
        parser.expectResponse(toMethod: "GET")
        var chunk = [UInt8](repeating: 0, count: 16_384)
        do {
            while true {
                let count = try channel.read(into: &chunk)
                if count == 0 {
                    guard let response = try parser.finish() else { throw Failure("\(host): closed before answering") }
                    return Response(status: response.status, body: response.body)
                }
                parser.feed(Array(chunk[..<count]))
                if let response = try parser.next() { return Response(status: response.status, body: response.body) }
            }
        } catch let error as HTTPParseError {
            throw Failure("\(host): invalid response (\(error))")
        } catch let error as Failure {
            throw error
        } catch {
            throw Failure("\(host): read failed")
        }
    }

    /// A connected, blocking socket whose reads and writes give up at the deadline.
    private static func connect(_ address: SocketAddress, target: Target, deadline: UInt64) throws(Failure) -> Int32 {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure("\(target.host): socket failed") }
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        let rc = address.withSockaddr { Glibc.connect(fd, $0, $1) }
        if rc != 0 {
            guard errno == EINPROGRESS, waitFor(fd, events: Int16(POLLOUT), deadline: deadline) else {
                _ = close(fd)
                throw Failure("\(target.host):\(target.port): connect failed or timed out")
            }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0, error == 0 else {
                _ = close(fd)
                throw Failure("\(target.host):\(target.port): connect refused")
            }
        }
        _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)
        return fd
    }

    /// Waits until `fd` is ready for `events` or the deadline passes.
    static func waitFor(_ fd: Int32, events: Int16, deadline: UInt64) -> Bool {
        while true {
            let now = EventLoop.now()
            guard now < deadline else { return false }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let milliseconds = Int32(min((deadline - now) / 1_000_000 + 1, 60_000))
            let rc = poll(&entry, 1, milliseconds)
            if rc > 0 { return true }
            if rc < 0 && errno != EINTR { return false }
        }
    }

    /// Sets the socket's send and receive timeouts to what is left before the deadline.
    static func armTimeouts(_ fd: Int32, deadline: UInt64) -> Bool {
        let now = EventLoop.now()
        guard now < deadline else { return false }
        let left = deadline - now
        var tv = timeval(tv_sec: Int(left / 1_000_000_000), tv_usec: Int((left % 1_000_000_000) / 1000) + 1)
        let size = socklen_t(MemoryLayout<timeval>.size)
        return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, size) == 0
            && setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, size) == 0
    }
}

/// A byte stream for one fetch: plain TCP or TLS.
protocol FetchChannel {
    func write(_ bytes: [UInt8]) throws(BlockingHTTPFetch.Failure)
    /// Bytes read into `buffer`; 0 at the end of the stream.
    func read(into buffer: inout [UInt8]) throws(BlockingHTTPFetch.Failure) -> Int
}

/// Plain TCP.
struct PlainFetchChannel: FetchChannel {
    let fd: Int32
    let host: String
    let deadline: UInt64

    func write(_ bytes: [UInt8]) throws(BlockingHTTPFetch.Failure) {
        var offset = 0
        while offset < bytes.count {
            guard BlockingHTTPFetch.armTimeouts(fd, deadline: deadline) else { throw .init("\(host): timed out") }
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw .init("\(host): write failed or timed out") }
            offset += n
        }
    }

    func read(into buffer: inout [UInt8]) throws(BlockingHTTPFetch.Failure) -> Int {
        while true {
            guard BlockingHTTPFetch.armTimeouts(fd, deadline: deadline) else { throw .init("\(host): timed out") }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw .init("\(host): read failed or timed out") }
            return n
        }
    }
}
