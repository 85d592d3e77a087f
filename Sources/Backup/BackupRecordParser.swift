import Crypto

#if canImport(Glibc)
    import Glibc
#endif

/// Splits the decrypted stream into its records (part start, part data, manifest), measures every part, and at
/// the end checks the parts against the manifest.
final class BackupRecordParser {
    private struct Measured {
        let name: String
        var byteCount: Int64 = 0
        var newlines: Int64 = 0
        let digest = IncrementalDigest()
    }

    private let sink: (any BackupPartSink)?
    private var buffer: [UInt8] = []
    private var current: Measured?
    private var measured: [(name: String, byteCount: Int64, sha256: String, newlines: Int64)] = []
    private var manifest: BackupManifest?

    init(sink: (any BackupPartSink)?) { self.sink = sink }

    /// Takes the plaintext of the next chunk and handles every record it completes.
    func feed(_ bytes: [UInt8]) throws {
        if buffer.isEmpty { buffer = bytes } else { buffer += bytes }
        var offset = 0
        while buffer.count - offset >= BackupFormat.recordPrefixByteCount {
            let tag = buffer[offset]
            let length = Int(BackupFormat.readUInt32(buffer[(offset + 1)...]))
            guard length <= BackupFormat.maximumRecordByteCount else { throw BackupError.malformed("record length") }
            let start = offset + BackupFormat.recordPrefixByteCount
            guard buffer.count - start >= length else { break }
            try handle(tag, buffer[start..<start + length])
            offset = start + length
        }
        buffer.removeFirst(offset)
    }

    /// Checks that the stream ended with the manifest and that every part matches it.
    func finish() throws -> BackupManifest {
        guard buffer.isEmpty, let manifest else {
            throw BackupError.malformed("the stream ends without its manifest")
        }
        guard manifest.formatVersion == 1 else {
            throw BackupError.manifest("format version \(manifest.formatVersion)")
        }
        guard manifest.parts.map(\.name) == measured.map(\.name) else {
            throw BackupError.manifest(
                "the stream holds parts [\(measured.map(\.name).joined(separator: ", "))], the manifest lists "
                    + "[\(manifest.parts.map(\.name).joined(separator: ", "))]")
        }
        for (part, seen) in zip(manifest.parts, measured) {
            guard part.byteCount == seen.byteCount else {
                throw BackupError.manifest(
                    "part \(part.name): \(seen.byteCount) bytes, the manifest says \(part.byteCount)")
            }
            guard part.sha256 == seen.sha256 else { throw BackupError.manifest("part \(part.name): SHA-256 differs") }
            // COPY text puts one row per line (newlines inside values are escaped), so rows can be counted here.
            if part.kind == "postgres-table", let table = part.tables.first, table.rows != seen.newlines {
                throw BackupError.manifest("part \(part.name): \(seen.newlines) rows, the manifest says \(table.rows)")
            }
        }
        return manifest
    }

    private func handle(_ tag: UInt8, _ payload: ArraySlice<UInt8>) throws {
        guard manifest == nil else { throw BackupError.malformed("a record follows the manifest") }
        switch tag {
        case BackupFormat.partTag:
            try endCurrentPart()
            let name = String(decoding: payload, as: UTF8.self)
            current = Measured(name: name)
            try sink?.beginPart(name)
        case BackupFormat.dataTag:
            guard current != nil else { throw BackupError.malformed("data outside a part") }
            current!.byteCount += Int64(payload.count)
            try payload.withUnsafeBytes { buffer in
                current!.newlines += Self.newlines(in: buffer)
                current!.digest.update(buffer)
                try sink?.write(buffer)
            }
        case BackupFormat.manifestTag:
            try endCurrentPart()
            manifest = try BackupManifest(json: Array(payload))
        default:
            throw BackupError.malformed("unknown record tag \(tag)")
        }
    }

    /// The number of `\n` bytes in `buffer`, found with `memchr`.
    private static func newlines(in buffer: UnsafeRawBufferPointer) -> Int64 {
        guard var cursor = buffer.baseAddress else { return 0 }
        let end = cursor + buffer.count
        var count: Int64 = 0
        while cursor < end, let found = memchr(cursor, 0x0A, end - cursor) {
            count += 1
            cursor = UnsafeRawPointer(found) + 1
        }
        return count
    }

    private func endCurrentPart() throws {
        guard let part = current else { return }
        current = nil
        measured.append((part.name, part.byteCount, Digest.hex(part.digest.finalize()), part.newlines))
        try sink?.endPart(part.name)
    }
}
