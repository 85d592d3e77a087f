#if canImport(Glibc)
    import Glibc
#endif

/// Whole-file reads with POSIX calls, for loading vectors in tests.
enum FileBytes {
    struct Failure: Error, CustomStringConvertible {
        let path: String
        var description: String { "cannot read \(path)" }
    }

    static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw Failure(path: path) }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            guard count >= 0 else { throw Failure(path: path) }
            if count == 0 { return out }
            out += chunk.prefix(count)
        }
    }
}

/// Environment lookup without Foundation.
enum ProcessInfoLite {
    static func value(of name: String) -> String? {
        guard let raw = getenv(name) else { return nil }
        return String(cString: raw)
    }
}
