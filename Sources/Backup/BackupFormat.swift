/// The layout of a backup file (docs/backup-format.md), version 1.
///
/// header (80 bytes, clear, authenticated): magic `SPBACKUP`, format version u16, flags u16 (0),
/// chunk size u32, salt (32), key check (32) = HMAC-SHA256(check key, the 48 bytes before it).
/// Then chunks: final flag u8, ciphertext length u32, ciphertext, GCM tag (16). Chunk `i` is sealed with
/// nonce = 4 zero bytes ‖ i (u64) and AAD = header ‖ i (u64) ‖ final flag, so altering, reordering, dropping
/// or appending a chunk, or cutting the file short, fails authentication or the end check.
/// All integers are big-endian.
enum BackupFormat {
    static let magic: [UInt8] = Array("SPBACKUP".utf8)
    static let version: UInt16 = 1
    static let headerByteCount = 80
    static let saltByteCount = 32
    /// Plaintext bytes per chunk that `BackupWriter` seals.
    static let defaultChunkSize: UInt32 = 1 << 20
    /// The largest chunk size a reader accepts, which bounds its memory.
    static let maximumChunkSize: UInt32 = 16 << 20
    /// Bytes before each chunk's ciphertext: final flag and length.
    static let chunkPrefixByteCount = 5

    /// Record tags of the plaintext stream: part start (payload: the part's name), part data, manifest.
    static let partTag: UInt8 = 0x50
    static let dataTag: UInt8 = 0x44
    static let manifestTag: UInt8 = 0x4D
    /// Bytes before each record's payload: tag and length (u32).
    static let recordPrefixByteCount = 5
    /// The largest record payload.
    static let maximumRecordByteCount = 1 << 20

    static func nonce(chunk: UInt64) -> [UInt8] { [0, 0, 0, 0] + bigEndian(chunk) }

    static func additionalData(header: [UInt8], chunk: UInt64, final: Bool) -> [UInt8] {
        header + bigEndian(chunk) + [final ? 1 : 0]
    }

    static func bigEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) }
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) }
    }

    static func readUInt32(_ bytes: some Collection<UInt8>) -> UInt32 {
        bytes.prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
    }
}
