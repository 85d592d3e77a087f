import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The audit file's retired predecessors: `<path>.<last sequence, 20 digits>.z`, zlib-compressed, in chain order.
///
/// The writer renames the current file to `<path>.<last sequence>` when it rotates (by size or age), compresses
/// it into `<path>.<last sequence>.z` (written to a temporary name, synced, renamed) and removes the plain copy.
/// The chain continues across files: the first record of each file links to the last record of the one before.
/// Names sort in chain order. Retention (`AUDIT_RETENTION_DAYS`) deletes only retired files, never the current one.
public enum AuditRetiredFiles {
    /// One retired file.
    public struct File: Sendable, Equatable {
        public let path: String
        /// The sequence of its last record.
        public let lastSequence: UInt64
        /// Whether it is compressed yet (`.z`).
        public let compressed: Bool
    }

    /// The retired files of the audit file at `path`, oldest first. A plain file and its compressed twin (a
    /// compression cut short) count once, as the plain one.
    public static func list(for path: String) -> [File] {
        let directory = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent + "."
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory)) ?? []
        var found: [UInt64: File] = [:]
        for name in names where name.hasPrefix(base) {
            var rest = name.dropFirst(base.count)
            let compressed = rest.hasSuffix(".z")
            if compressed { rest = rest.dropLast(2) }
            guard rest.utf8.count == 20, rest.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
                let sequence = UInt64(rest)
            else { continue }
            let file = File(
                path: (directory.isEmpty ? "" : directory + "/") + name, lastSequence: sequence,
                compressed: compressed)
            if !compressed || found[sequence] == nil { found[sequence] = file }
        }
        return found.values.sorted { $0.lastSequence < $1.lastSequence }
    }

    /// The name a file ending at `lastSequence` is retired under (before compression).
    static func retiredPath(for path: String, lastSequence: UInt64) -> String {
        let digits = String(lastSequence)
        return path + "." + String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    /// How many times its compressed size a retired file may inflate to. Sealed lines carry two 64-digit
    /// hashes each and compress about 3:1; a crafted stream of repeated bytes reaches 1000:1, so the bound
    /// keeps what `verify` and `tail` hold in memory in proportion to what is on disk.
    static let maximumInflationRatio = 64

    /// The records of `file`, decompressed.
    /// - Throws: `AuditLogError` when it cannot be read, does not inflate, or inflates past
    ///   `maximumInflationRatio` times its size (a decompression bomb, not a file the writer made).
    public static func contents(of file: File) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: file.path) else { throw AuditLogError.retiredUnreadable }
        guard file.compressed else { return Array(data) }
        let bound = data.count * maximumInflationRatio + 65_536
        guard let bytes = Zlib.decompress(Array(data), maxBytes: bound) else { throw AuditLogError.retiredUnreadable }
        return bytes
    }

    /// Compresses the plain retired file at `plain` into `<plain>.z` and removes the plain one.
    /// - Returns: whether it worked; on failure the plain file stays and counts as retired.
    @discardableResult
    static func compress(_ plain: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: plain), let packed = Zlib.compress(Array(data)) else {
            return false
        }
        let temporary = plain + ".z.tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return false }
        var written = 0
        while written < packed.count {
            let result = packed[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else { break }
            written += result
        }
        let synced = written == packed.count && fsync(descriptor) == 0
        close(descriptor)
        guard synced, rename(temporary, plain + ".z") == 0 else {
            unlink(temporary)
            return false
        }
        unlink(plain)
        return true
    }

    /// Deletes retired files last modified more than `days` days before `nowSeconds`; the current file never.
    /// - Returns: the paths deleted.
    @discardableResult
    public static func applyRetention(for path: String, days: Int, nowSeconds: Int64) -> [String] {
        let cutoff = nowSeconds - Int64(days) * 86_400
        var deleted: [String] = []
        for file in list(for: path) {
            var status = stat()
            guard stat(file.path, &status) == 0, Int64(status.st_mtim.tv_sec) < cutoff else { continue }
            if unlink(file.path) == 0 { deleted.append(file.path) }
            // A compressed twin of a plain file goes with it.
            if !file.compressed { unlink(file.path + ".z") }
        }
        return deleted
    }
}
