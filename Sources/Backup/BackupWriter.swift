import Crypto

#if canImport(Glibc)
    import Glibc
#endif

/// Writes a backup file: parts streamed through AES-256-GCM in authenticated chunks, then the manifest.
///
/// The file appears only when `finish` succeeds: everything goes to a temporary file beside `path`
/// (mode 0600), which is synced, renamed over `path`, and the directory synced. A writer that is dropped or
/// `abandon`ed leaves nothing behind. Not thread-safe: one owner writes.
public final class BackupWriter {
    /// What `endPart` measured of the part just written.
    public struct PartDigest: Sendable {
        public let byteCount: Int64
        public let sha256: String
    }

    private let path: String
    private let temporaryPath: String
    private var fd: Int32
    private let header: [UInt8]
    private let key: [UInt8]
    private let chunkSize: Int
    private var pending: [UInt8] = []
    private var chunkIndex: UInt64 = 0
    private var partDigest: IncrementalDigest?
    private var partBytes: Int64 = 0
    private var done = false

    /// Creates the temporary file and writes the header.
    /// - Parameters:
    ///   - path: where the finished backup goes.
    ///   - key: the backup secret; the file gets keys of its own from it and a fresh salt.
    ///   - chunkSize: plaintext bytes per chunk; default 1 MiB.
    /// - Throws: `BackupError` (`io`) when the temporary file cannot be created.
    public init(path: String, key: BackupKey, chunkSize: UInt32 = 1 << 20) throws {
        precondition(chunkSize >= 1 && chunkSize <= BackupFormat.maximumChunkSize, "chunk size out of range")
        self.path = path
        var template = Array((path + ".tmp-XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            throw BackupError.io("cannot create a temporary file beside", path: path, errno: errno)
        }
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        fd = descriptor
        temporaryPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let salt = SecureRandom.bytes(count: BackupFormat.saltByteCount)
        let keys = key.fileKeys(salt: salt)
        var head = BackupFormat.magic + [UInt8(BackupFormat.version >> 8), UInt8(BackupFormat.version & 0xFF), 0, 0]
        head += BackupFormat.bigEndian(chunkSize) + salt
        head += HMAC.authenticationCode(for: head, key: keys.check)
        header = head
        self.key = keys.encryption
        self.chunkSize = Int(chunkSize)
        try writeAll(header)
    }

    deinit { abandon() }

    /// Starts part `name`; its bytes follow through `write`.
    public func beginPart(_ name: String) throws {
        precondition(partDigest == nil, "beginPart inside a part")
        try record(BackupFormat.partTag, Array(name.utf8))
        partDigest = IncrementalDigest()
        partBytes = 0
    }

    /// Appends `bytes` to the current part.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let digest = partDigest else { preconditionFailure("write outside a part") }
        digest.update(bytes)
        partBytes += Int64(bytes.count)
        var offset = 0
        while offset < bytes.count {
            let count = min(BackupFormat.maximumRecordByteCount, bytes.count - offset)
            try record(BackupFormat.dataTag, Array(bytes[offset..<offset + count]))
            offset += count
        }
    }

    /// Appends `bytes` to the current part.
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Ends the current part and returns its size and SHA-256, for the manifest.
    public func endPart() -> PartDigest {
        guard let digest = partDigest else { preconditionFailure("endPart outside a part") }
        partDigest = nil
        return PartDigest(byteCount: partBytes, sha256: Digest.hex(digest.finalize()))
    }

    /// Writes the manifest and the final chunk, syncs, and renames the file into place.
    /// - Throws: `BackupError` (`io`); the temporary file is removed then.
    public func finish(manifest: BackupManifest) throws {
        precondition(partDigest == nil, "finish inside a part")
        do {
            try record(BackupFormat.manifestTag, manifest.serialized())
            try seal(pending, final: true)
            pending = []
            guard fsync(fd) == 0 else { throw BackupError.io("fsync", path: temporaryPath, errno: errno) }
            close(fd)
            fd = -1
            guard rename(temporaryPath, path) == 0 else { throw BackupError.io("rename to", path: path, errno: errno) }
            done = true
            Self.syncDirectory(of: path)
        } catch {
            abandon()
            throw error
        }
    }

    /// Removes the temporary file; nothing of this backup remains.
    public func abandon() {
        guard !done else { return }
        done = true
        if fd >= 0 { close(fd) }
        fd = -1
        unlink(temporaryPath)
    }

    private func record(_ tag: UInt8, _ payload: [UInt8]) throws {
        pending += [tag] + BackupFormat.bigEndian(UInt32(payload.count))
        pending += payload
        while pending.count > chunkSize {
            try seal(Array(pending[..<chunkSize]), final: false)
            pending.removeFirst(chunkSize)
        }
    }

    private func seal(_ plaintext: [UInt8], final: Bool) throws {
        let box: AESGCM.SealedBox
        do {
            box = try AESGCM.seal(
                plaintext, key: key, nonce: BackupFormat.nonce(chunk: chunkIndex),
                authenticating: BackupFormat.additionalData(header: header, chunk: chunkIndex, final: final))
        } catch {
            preconditionFailure("AES-GCM failed with a valid key and nonce: \(error)")
        }
        try writeAll([final ? 1 : 0] + BackupFormat.bigEndian(UInt32(box.ciphertext.count)) + box.ciphertext + box.tag)
        chunkIndex += 1
    }

    private func writeAll(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw BackupError.io("write", path: temporaryPath, errno: errno) }
            offset += n
        }
    }

    /// Syncs the directory entry of `path`, so that the rename survives a crash.
    static func syncDirectory(of path: String) {
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let fd = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}
