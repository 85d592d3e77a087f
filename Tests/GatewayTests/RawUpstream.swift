import Foundation
import Synchronization

/// An upstream that writes fixed bytes, for answers `HTTPServer` would never write (its serializer owns
/// `Connection`): accepts each connection, reads one request head, writes `response`, closes.
final class RawUpstream: Sendable {
    let port: Int
    private let fd: Int32
    private let done = Atomic<Bool>(false)

    init(response: String) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = fd
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw TestHTTPClient.Failure(description: "raw upstream cannot listen")
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        let bytes = Array(response.utf8)
        Thread.detachNewThread { [self] in serve(bytes) }
    }

    /// Stops accepting; `shutdown` wakes the blocked `accept`.
    func stop() {
        guard !done.exchange(true, ordering: .relaxed) else { return }
        Glibc.shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }

    private func serve(_ bytes: [UInt8]) {
        while !done.load(ordering: .relaxed) {
            let connection = accept(fd, nil, nil)
            guard connection >= 0 else { return }
            var head: [UInt8] = []
            var scratch = [UInt8](repeating: 0, count: 4096)
            while !head.suffix(4).elementsEqual(Array("\r\n\r\n".utf8)) {
                let n = scratch.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
                if n <= 0 { break }
                head.append(contentsOf: scratch[..<n])
            }
            _ = bytes.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            close(connection)
        }
    }
}
