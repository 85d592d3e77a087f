#if canImport(Glibc)
    import Glibc
#endif

/// An operating-system call that failed, naming the call and the errno; never carries user data.
public struct SyscallError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The name of the call, for example `accept4`.
    public let call: String
    /// The `errno` it left.
    public let errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    public var description: String {
        let text = strerror(errno).map { String(cString: $0) } ?? "unknown error"
        return "\(call) failed: \(text) (errno \(errno))"
    }
}

/// The result of a call on a non-blocking descriptor.
enum IOResult: Equatable {
    case processed(Int)
    case wouldBlock
}

/// The one wrapper for system calls: EINTR is retried, EAGAIN becomes `wouldBlock`, the rest a typed error.
enum Syscall {
    @inline(__always)
    static func io(_ call: StaticString, _ body: () -> Int) throws(SyscallError) -> IOResult {
        while true {
            let result = body()
            if result >= 0 { return .processed(result) }
            let code = Glibc.errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
            throw SyscallError(call: "\(call)", errno: code)
        }
    }

    /// A call that must succeed (setup calls): retries EINTR, throws on any other failure.
    @inline(__always)
    @discardableResult
    static func check(_ call: StaticString, _ body: () -> Int32) throws(SyscallError) -> Int32 {
        while true {
            let result = body()
            if result >= 0 { return result }
            let code = Glibc.errno
            if code == EINTR { continue }
            throw SyscallError(call: "\(call)", errno: code)
        }
    }

    /// Closes `fd`, ignoring errors: after close the descriptor is gone whatever it returns.
    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }
}
