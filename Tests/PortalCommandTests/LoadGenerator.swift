import Foundation
import Synchronization

/// Plain HTTP/1.1 requests to one port from several threads, each on a fresh connection, until stopped.
///
/// Bounded in time and count (it stops by itself after `maxSeconds` or `maxRequests`), and aimed only at
/// 127.0.0.1. Counts the answers by status; a refused or broken connection counts as status 0.
final class LoadGenerator: Sendable {
    private let stopping = Atomic<Bool>(false)
    private let running = Atomic<Int>(0)
    private let counts = Mutex<[Int: Int]>([:])
    private let sent = Atomic<Int>(0)

    /// Starts `threads` threads sending `request` (a full request, `Connection: close`) to 127.0.0.1:`port`.
    init(port: Int, request: String, threads: Int = 4, maxSeconds: Double = 60, maxRequests: Int = 200_000) {
        let bytes = Array(request.utf8)
        let deadline = Date().addingTimeInterval(maxSeconds)
        for _ in 0..<threads {
            running.add(1, ordering: .relaxed)
            Thread.detachNewThread { [self] in
                defer { running.subtract(1, ordering: .relaxed) }
                while !stopping.load(ordering: .relaxed) && Date() < deadline
                    && sent.add(1, ordering: .relaxed).newValue <= maxRequests
                {
                    let status = Self.exchange(bytes, port: port)
                    counts.withLock { $0[status, default: 0] += 1 }
                    if status == 0 { usleep(2_000) }
                }
            }
        }
    }

    /// Stops every thread and waits for them (bounded).
    func stop() {
        stopping.store(true, ordering: .relaxed)
        let deadline = Date().addingTimeInterval(15)
        while running.load(ordering: .relaxed) > 0 && Date() < deadline { usleep(5_000) }
    }

    /// Answers so far, by status (0: no answer).
    var statusCounts: [Int: Int] { counts.withLock { $0 } }

    /// Sends one request on a new connection and reads the status line of the answer.
    private static func exchange(_ request: [UInt8], port: Int) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected, request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else {
            return 0
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            response += buffer[0..<count]
        }
        // "HTTP/1.1 401 ..."
        guard response.count >= 12 else { return 0 }
        return Int(String(decoding: response[9..<12], as: UTF8.self)) ?? 0
    }
}
