import Crypto
import Foundation

/// Where an existing audit file's chain ends, so that a restarted log continues it.
struct AuditChainTail: Equatable {
    var lastSequence: UInt64
    var lastHash: String

    static let empty = AuditChainTail(lastSequence: 0, lastHash: AuditRecord.genesisHash)

    /// Reads the last complete line of the file at `path`.
    ///
    /// A missing or unreadable file (a directory, say) starts a new chain: writing to it will fail
    /// and be counted. A partial last line, from a crash mid-write, is ignored.
    /// - Throws: `AuditLogError.corruptTail` when the last complete line is not a record whose
    ///   hash matches its content.
    static func read(path: String) throws -> AuditChainTail {
        guard let handle = FileHandle(forReadingAtPath: path) else { return .empty }
        defer { try? handle.close() }
        // Lines are bounded (every field is cut to 1 KiB), so the tail holds the last whole line.
        guard let size = try? handle.seekToEnd(), size > 0 else { return .empty }
        let window: UInt64 = 64 * 1024
        guard (try? handle.seek(toOffset: size > window ? size - window : 0)) != nil,
            let data = try? handle.readToEnd()
        else { return .empty }
        var bytes = [UInt8](data)
        guard let lastNewline = bytes.lastIndex(of: UInt8(ascii: "\n")) else { return .empty }
        bytes.removeSubrange(lastNewline...)
        let start = (bytes.lastIndex(of: UInt8(ascii: "\n")) ?? -1) + 1
        return try parse(Array(bytes[start...]))
    }

    /// The sequence and hash of one sealed line, after checking that the hash is right.
    static func parse(_ line: [UInt8]) throws -> AuditChainTail {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
            let hash = object["hash"] as? String, hash.utf8.count == 64,
            let sequence = (object["sequence"] as? NSNumber)?.uint64Value
        else { throw AuditLogError.corruptTail }
        // The hash field is written last, so the canonical bytes are the line without it.
        let suffix = Array(",\"hash\":\"\(hash)\"}".utf8)
        guard line.count > suffix.count, Array(line.suffix(suffix.count)) == suffix else {
            throw AuditLogError.corruptTail
        }
        let canonical = Array(line.dropLast(suffix.count)) + [UInt8(ascii: "}")]
        guard Digest.hex(Digest.sha256(canonical)) == hash else { throw AuditLogError.corruptTail }
        return AuditChainTail(lastSequence: sequence, lastHash: hash)
    }
}
