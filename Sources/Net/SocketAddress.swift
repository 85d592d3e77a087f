import CEpoll

#if canImport(Glibc)
    import Glibc
#endif

/// A resolved IPv4 or IPv6 socket address, stored as raw `sockaddr_storage`.
struct SocketAddress: @unchecked Sendable {
    // @unchecked: `sockaddr_storage` is a plain C value with no pointers; copies are independent.
    var storage = sockaddr_storage()
    var length: socklen_t = 0

    var family: Int32 { Int32(storage.ss_family) }

    /// Resolves `host` (an IPv4/IPv6 literal or a name such as `localhost`) once, with getaddrinfo.
    static func resolve(host: String, port: Int, passive: Bool = false) -> SocketAddress? {
        guard (0...65535).contains(port) else { return nil }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = passive ? AI_PASSIVE : 0
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { return nil }
        defer { freeaddrinfo(list) }
        var result = SocketAddress()
        withUnsafeMutableBytes(of: &result.storage) { out in
            let bytes = UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(first.pointee.ai_addrlen))
            out.copyMemory(from: bytes)
        }
        result.length = first.pointee.ai_addrlen
        return result
    }

    /// The address from a C call that fills a `sockaddr` (accept4, getsockname).
    static func filling(_ body: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32)
        -> (Int32, SocketAddress)
    {
        var address = SocketAddress()
        address.length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &address.storage) { storage in
            storage.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, &address.length) }
        }
        return (result, address)
    }

    func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        withUnsafePointer(to: storage) { storage in
            storage.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }

    /// The IP address as text (`203.0.113.7`, `2001:db8::1`) and the port.
    var hostAndPort: (String, Int) {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        var copy = storage
        return withUnsafeMutablePointer(to: &copy) { pointer in
            if family == AF_INET6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { in6 in
                    _ = inet_ntop(AF_INET6, &in6.pointee.sin6_addr, &text, socklen_t(text.count))
                    return (
                        String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self),
                        Int(UInt16(bigEndian: in6.pointee.sin6_port))
                    )
                }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { in4 in
                _ = inet_ntop(AF_INET, &in4.pointee.sin_addr, &text, socklen_t(text.count))
                return (
                    String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self),
                    Int(UInt16(bigEndian: in4.pointee.sin_port))
                )
            }
        }
    }
}

/// Socket set-up steps shared by the server and the upstream client.
enum Socket {
    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32 = 1) {
        var v = value
        _ = setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size))
    }

    static func setNoDelay(_ fd: Int32) {
        setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY)
    }

    /// A new non-blocking, close-on-exec TCP socket for `family`.
    static func makeTCP(family: Int32) throws(SyscallError) -> Int32 {
        try Syscall.check("socket") {
            socket(
                family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
    }
}
