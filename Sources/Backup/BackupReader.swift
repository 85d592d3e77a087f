import Crypto

#if canImport(Glibc)
    import Glibc
#endif

/// Receives the parts of a backup as `BackupReader` decrypts them (restore writes them somewhere).
///
/// Nothing received is final until `read` returns: a later chunk may still fail, and the receiver must then
/// throw its work away.
public protocol BackupPartSink: AnyObject {
    func beginPart(_ name: String) throws
    func write(_ bytes: UnsafeRawBufferPointer) throws
    func endPart(_ name: String) throws
}

/// Reads a backup file: checks the key, decrypts and authenticates every chunk in order, checks that the file
/// ends with its final chunk, and that every part matches the manifest (bytes, SHA-256, rows of table data).
public enum BackupReader {
    /// Reads the whole file at `path` and returns its manifest.
    /// - Parameters:
    ///   - sink: receives the parts as they are decrypted; nil only checks.
    /// - Throws: `BackupError` naming what is wrong (wrong key, chunk N altered, truncated, manifest mismatch),
    ///   or whatever `sink` throws.
    public static func read(path: String, key: BackupKey, into sink: (any BackupPartSink)? = nil) throws
        -> BackupManifest
    {
        let file = try BackupInputFile(path: path)
        let header = try readHeader(file, key: key)
        let chunkSize = Int(BackupFormat.readUInt32(header[12..<16]))
        let encryptionKey = key.fileKeys(salt: Array(header[16..<48])).encryption
        let records = BackupRecordParser(sink: sink)
        var index: UInt64 = 0
        while true {
            let prefix = try file.read(BackupFormat.chunkPrefixByteCount)
            if prefix.isEmpty {
                throw BackupError.truncated(
                    index == 0
                        ? "no chunk follows the header" : "it ends after chunk \(index - 1) without the final chunk")
            }
            guard prefix.count == BackupFormat.chunkPrefixByteCount else {
                throw BackupError.truncated("it ends inside chunk \(index)")
            }
            let length = Int(BackupFormat.readUInt32(prefix[1...]))
            guard prefix[0] <= 1, length <= chunkSize + AESGCM.tagByteCount else {
                throw BackupError.tampered(chunk: index)
            }
            let body = try file.read(length + AESGCM.tagByteCount)
            guard body.count == length + AESGCM.tagByteCount else {
                throw BackupError.truncated("it ends inside chunk \(index)")
            }
            let final = prefix[0] == 1
            let plaintext: [UInt8]
            do {
                plaintext = try AESGCM.open(
                    AESGCM.SealedBox(
                        nonce: BackupFormat.nonce(chunk: index), ciphertext: Array(body[..<length]),
                        tag: Array(body[length...])),
                    key: encryptionKey,
                    authenticating: BackupFormat.additionalData(header: header, chunk: index, final: final))
            } catch {
                throw BackupError.tampered(chunk: index)
            }
            try records.feed(plaintext)
            if final { break }
            index += 1
        }
        guard try file.read(1).isEmpty else {
            throw BackupError(.trailingData, "data follows the final chunk (\(index)): the file was appended to")
        }
        return try records.finish()
    }

    /// Reads and checks the header: magic, version, chunk size, and the key check.
    private static func readHeader(_ file: BackupInputFile, key: BackupKey) throws -> [UInt8] {
        let header = try file.read(BackupFormat.headerByteCount)
        guard header.count >= BackupFormat.magic.count, Array(header.prefix(8)) == BackupFormat.magic else {
            throw BackupError(.notABackup, "not a Story Portal backup (no SPBACKUP header)")
        }
        guard header.count == BackupFormat.headerByteCount else {
            throw BackupError.truncated("it ends inside the header")
        }
        let version = UInt16(header[8]) << 8 | UInt16(header[9])
        guard version == BackupFormat.version else {
            throw BackupError(.unsupportedVersion, "backup format version \(version); this build reads version 1")
        }
        let keys = key.fileKeys(salt: Array(header[16..<48]))
        guard HMAC.isValidAuthenticationCode(Array(header[48..<80]), for: Array(header[..<48]), key: keys.check) else {
            throw BackupError(
                .wrongKey, "the backup key does not open this file (wrong BACKUP_KEY, or the header was altered)")
        }
        let chunkSize = BackupFormat.readUInt32(header[12..<16])
        guard chunkSize >= 1, chunkSize <= BackupFormat.maximumChunkSize else {
            throw BackupError.malformed("chunk size")
        }
        return header
    }
}

/// A file read in full pieces, with EINTR retried.
final class BackupInputFile {
    private let fd: Int32
    private let path: String

    init(path: String) throws {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        self.path = path
        guard fd >= 0 else { throw BackupError.io("cannot open", path: path, errno: errno) }
    }

    deinit { close(fd) }

    /// Up to `count` bytes; fewer only at the end of the file.
    func read(_ count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, count - filled) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw BackupError.io("read", path: path, errno: errno) }
            if n == 0 { break }
            filled += n
        }
        return Array(out[..<filled])
    }
}
