import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Where a `Logger` writes its lines. Each call gets one whole line ending in `\n`.
public protocol LogSink: Sendable {
    /// Writes one line; must not throw or block for long, and drops the line if it cannot write it.
    func write(_ line: [UInt8])
}

/// Writes each line to file descriptor 2 with one `write(2)` where possible (lines under
/// `PIPE_BUF`, 4,096 bytes, do not interleave); retries on `EINTR`, drops the rest on other errors.
public struct StandardErrorSink: LogSink {
    /// A sink on fd 2.
    public init() {}

    public func write(_ line: [UInt8]) {
        line.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }
}

/// Keeps lines in memory; for tests of code that logs.
public final class MemoryLogSink: LogSink {
    private let stored = Mutex<[String]>([])

    /// An empty sink.
    public init() {}

    public func write(_ line: [UInt8]) {
        let text = String(decoding: line, as: UTF8.self)
        stored.withLock { $0.append(text) }
    }

    /// The lines written so far, each with its `\n`.
    public var lines: [String] { stored.withLock { $0 } }
}
