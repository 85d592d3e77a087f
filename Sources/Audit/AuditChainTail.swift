import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Where an existing audit file's chain ends, so that a restarted log continues it.
struct AuditChainTail: Equatable {
    var lastSequence: UInt64
    var lastHash: String

    static let empty = AuditChainTail(lastSequence: 0, lastHash: AuditRecord.genesisHash)

    /// Reads the last complete line of the file at `path`, first repairing a torn tail.
    ///
    /// A missing or unreadable file (a directory, say) starts a new chain: writing to it will fail
    /// and be counted. A last line without its newline is a write torn by a crash: its bytes are
    /// copied to `<path>.torn-<unixMicroseconds>` (mode 0600, synced) and the file is truncated to
    /// its last complete line, so the next record starts on a line of its own and the chain
    /// continues from the last whole record.
    /// - Parameter unixMicroseconds: names the copy of a torn tail; the caller's clock reading.
    /// - Throws: `AuditLogError.corruptTail` when the last complete line is not a record whose
    ///   hash matches its content, or a torn tail is longer than any record can be;
    ///   `AuditLogError.tornTailNotRepaired` when the torn bytes could not be set aside or cut off.
    static func read(path: String, key: HMACKey, unixMicroseconds: Int64) throws -> AuditChainTail {
        guard let handle = FileHandle(forReadingAtPath: path) else { return .empty }
        defer { try? handle.close() }
        // Lines are bounded (every field is cut to 1 KiB), so the tail holds the last whole line.
        guard let size = try? handle.seekToEnd(), size > 0 else { return .empty }
        let window: UInt64 = 64 * 1024
        let windowStart = size > window ? size - window : 0
        guard (try? handle.seek(toOffset: windowStart)) != nil,
            let data = try? handle.readToEnd()
        else { return .empty }
        var bytes = [UInt8](data)
        if bytes.last != UInt8(ascii: "\n") {
            // No newline within a window far longer than any record: not a torn write, refuse.
            let lineEnd = bytes.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }
            guard lineEnd != nil || windowStart == 0 else { throw AuditLogError.corruptTail }
            let keep = lineEnd ?? 0
            let torn = Array(bytes[keep...])
            try setAside(torn, to: path + ".torn-\(unixMicroseconds)")
            try truncate(path, toLength: windowStart + UInt64(keep))
            bytes.removeSubrange(keep...)
        }
        guard !bytes.isEmpty else { return .empty }
        bytes.removeLast()
        let start = (bytes.lastIndex(of: UInt8(ascii: "\n")) ?? -1) + 1
        guard let line = SealedLine(Array(bytes[start...])), line.verifies(with: key) else {
            throw AuditLogError.corruptTail
        }
        return AuditChainTail(lastSequence: line.sequence, lastHash: line.hash)
    }
}

extension AuditChainTail {
    /// The chain's end in the newest retired file of `path`, or `.empty` when there is none.
    /// - Throws: `AuditLogError` when that file cannot be read or its last line is not a valid sealed record.
    static func readRetired(path: String, key: HMACKey) throws -> AuditChainTail {
        guard let newest = AuditRetiredFiles.list(for: path).last else { return .empty }
        var bytes = try AuditRetiredFiles.contents(of: newest)
        while bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        let start = (bytes.lastIndex(of: UInt8(ascii: "\n")) ?? -1) + 1
        guard start < bytes.count, let line = SealedLine(Array(bytes[start...])), line.verifies(with: key) else {
            throw AuditLogError.corruptTail
        }
        return AuditChainTail(lastSequence: line.sequence, lastHash: line.hash)
    }

    /// Writes `bytes` to a new file at `path` (never replacing one) and syncs it.
    private static func setAside(_ bytes: [UInt8], to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw AuditLogError.tornTailNotRepaired }
        defer { close(descriptor) }
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else { throw AuditLogError.tornTailNotRepaired }
            written += result
        }
        guard fsync(descriptor) == 0 else { throw AuditLogError.tornTailNotRepaired }
    }

    /// Cuts the file at `path` to `length` bytes and syncs it.
    private static func truncate(_ path: String, toLength length: UInt64) throws {
        let descriptor = open(path, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw AuditLogError.tornTailNotRepaired }
        defer { close(descriptor) }
        guard ftruncate(descriptor, off_t(length)) == 0, fsync(descriptor) == 0 else {
            throw AuditLogError.tornTailNotRepaired
        }
    }
}
