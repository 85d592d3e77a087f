import Foundation
import HTTPCodec
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A value shared between a test and its peer threads.
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    var value: Value { mutex.withLock { $0 } }

    func update(_ body: (inout Value) -> Void) { mutex.withLock { body(&$0) } }
}

/// A blocking socket end for test peers: reads heads and bodies, sends bytes, counts what moved.
final class PeerSocket: @unchecked Sendable {
    let fd: Int32
    /// Bytes read past the last head, not yet taken.
    private var pending: [UInt8] = []

    init(fd: Int32) { self.fd = fd }

    /// Reads until the end of a head; nil when the peer closed first.
    func readHead() -> String? {
        var scratch = [UInt8](repeating: 0, count: 4096)
        while true {
            if let end = pending.indices.dropLast(3).first(where: {
                pending[$0] == 13 && pending[$0 + 1] == 10 && pending[$0 + 2] == 13 && pending[$0 + 3] == 10
            }) {
                let head = String(decoding: pending[..<(end + 4)], as: UTF8.self)
                pending.removeFirst(end + 4)
                return head
            }
            let n = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            pending.append(contentsOf: scratch[..<n])
        }
    }

    /// Reads and discards up to `count` bytes; returns how many came before the peer closed.
    func drain(_ count: Int = .max) -> Int {
        var taken = min(count, pending.count)
        pending.removeFirst(taken)
        var scratch = [UInt8](repeating: 0, count: 65_536)
        while taken < count {
            let n = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, min($0.count, count - taken), 0) }
            if n <= 0 { break }
            taken += n
        }
        return taken
    }

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

    /// Sends `total` bytes of `block` repeated; returns how many went out before the peer went away.
    func sendRepeated(_ block: [UInt8], total: Int, sent: Shared<Int>? = nil) -> Int {
        var done = 0
        while done < total {
            let n = min(block.count, total - done)
            guard send(Array(block[..<n])) else { break }
            done += n
            sent?.update { $0 += n }
        }
        return done
    }
}

/// An upstream whose every connection runs `script` on a thread of its own, for answers and timings that a
/// real server would not produce (stalls, chunked or close-delimited bodies, early closes).
final class ScriptedUpstream: Sendable {
    let port: Int
    let accepted = Shared(0)
    private let fd: Int32
    private let done = Atomic<Bool>(false)

    init(_ script: @escaping @Sendable (PeerSocket) -> Void) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = fd
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && listen(fd, 64) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw TestHTTPClient.Failure(description: "scripted upstream cannot listen")
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in
            while !self.done.load(ordering: .relaxed) {
                let connection = accept(fd, nil, nil)
                guard connection >= 0 else { return }
                self.accepted.update { $0 += 1 }
                Thread.detachNewThread {
                    script(PeerSocket(fd: connection))
                    close(connection)
                }
            }
        }
    }

    /// Stops accepting; `shutdown` wakes the blocked `accept`.
    func stop() {
        guard !done.exchange(true, ordering: .relaxed) else { return }
        Glibc.shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }
}

/// A client socket that reads answers with the streaming parser, counting bodies rather than keeping them.
final class StreamClient {
    let peer: PeerSocket
    var parser = HTTPResponseParser(limits: HTTPParserLimits(maxBodyBytes: .max))

    /// Connects to 127.0.0.1:`port`; `receiveBufferBytes` fixes the receive buffer (no kernel autotuning).
    init(port: Int, timeoutSeconds: Int = 10, receiveBufferBytes: Int32? = nil) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBufferBytes {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
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
            throw TestHTTPClient.Failure(description: "connect to \(port) failed")
        }
        peer = PeerSocket(fd: fd)
    }

    deinit { close(peer.fd) }

    struct Answer {
        var head: HTTPResponseHead?
        var body: [UInt8] = []
        var bodyBytes = 0
        var complete = false
        var closed = false

        var status: Int? { head?.response.status }
        func header(_ name: String) -> String? { head?.response.headers.first(name) }
    }

    /// Reads one answer; keeps at most `keep` body bytes, stops after `stopAfter` body bytes.
    func read(method: String = "GET", keep: Int = 1 << 20, stopAfter: Int = .max) -> Answer {
        parser.expectResponse(toMethod: method)
        var answer = Answer()
        var scratch = [UInt8](repeating: 0, count: 65_536)
        while true {
            if answer.head == nil, let head = try? parser.nextHead() {
                answer.head = head
                if head.bodyLength == .none {
                    answer.complete = true
                    return answer
                }
            }
            if answer.head != nil {
                let done =
                    (try? parser.readBody { bytes in
                        answer.bodyBytes += bytes.count
                        let room = keep - answer.body.count
                        if room > 0 { answer.body.append(contentsOf: bytes.prefix(room)) }
                    }) ?? false
                if done {
                    answer.complete = true
                    return answer
                }
                if answer.bodyBytes >= stopAfter { return answer }
            }
            let n = scratch.withUnsafeMutableBytes { recv(peer.fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 {
                answer.closed = true
                if answer.head != nil, (try? parser.finishBody()) == true { answer.complete = true }
                return answer
            }
            scratch.withUnsafeBytes { parser.feed(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
        }
    }

    /// Whether the peer closes (EOF or reset) within the read timeout, discarding any bytes.
    func waitForClose() -> Bool {
        var scratch = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = scratch.withUnsafeMutableBytes { recv(peer.fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }
}

extension PeerSocket {
    /// What an upstream read of one request found: its head, the body bytes, and whether the body was whole.
    struct ReceivedRequest {
        var head: HTTPRequestHead
        var bodyBytes = 0
        var complete = false
    }

    /// Reads one request with the strict parser, counting its body; nil when the peer closed before a head.
    func readRequest() -> ReceivedRequest? {
        var parser = HTTPRequestParser(limits: HTTPParserLimits(maxBodyBytes: .max))
        var received: ReceivedRequest?
        var scratch = [UInt8](repeating: 0, count: 65_536)
        while true {
            if received == nil, let head = try? parser.nextHead() {
                received = ReceivedRequest(head: head, complete: head.bodyLength == .none)
            }
            if var request = received, !request.complete {
                guard let done = try? parser.readBody({ request.bodyBytes += $0.count }) else { return request }
                request.complete = done
                received = request
            }
            if let received, received.complete { return received }
            let n = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return received }
            scratch.withUnsafeBytes { parser.feed(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
        }
    }
}
