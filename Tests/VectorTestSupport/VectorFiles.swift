#if canImport(Glibc)
    import Glibc
#endif

/// The test vectors' folder and whole-file reads from it, with POSIX calls.
///
/// The folder is `Tests/Vectors` (a copy of the team's shared vectors, kept so that a clean clone tests itself), or
/// `$PORTAL_VECTORS` to test against another copy.
public enum VectorFiles {
    public struct Failure: Error, CustomStringConvertible {
        public let path: String
        public var description: String { "cannot read \(path)" }
    }

    /// The vectors' folder, without a trailing slash.
    public static var directory: String {
        if let raw = getenv("PORTAL_VECTORS") { return String(cString: raw) }
        // This file is Tests/VectorTestSupport/VectorFiles.swift: three components up is the package root.
        return "/" + #filePath.split(separator: "/").dropLast(3).joined(separator: "/") + "/Tests/Vectors"
    }

    /// The bytes of `relativePath` inside the vectors' folder, e.g. `jwt-verification.json`.
    public static func read(_ relativePath: String) throws -> [UInt8] {
        let path = directory + "/" + relativePath
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
