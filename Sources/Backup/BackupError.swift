/// Why a backup file was refused or could not be written. The description names what is wrong (the key, a
/// chunk by number, the end of the file, the manifest) and never carries key or data bytes.
public struct BackupError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, as a bounded token (`wrong_key`, `tampered_chunk`, `truncated`, ...).
    public enum Kind: String, Sendable {
        case notABackup = "not_a_backup"
        case unsupportedVersion = "unsupported_version"
        case wrongKey = "wrong_key"
        case tamperedChunk = "tampered_chunk"
        case truncated
        case trailingData = "trailing_data"
        case malformed
        case manifestMismatch = "manifest_mismatch"
        case io
    }

    public let kind: Kind
    public let description: String

    init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }

    static func tampered(chunk: UInt64) -> BackupError {
        BackupError(
            .tamperedChunk,
            "chunk \(chunk) failed authentication: the file was altered, its chunks reordered, "
                + "or the chunk comes from another backup")
    }

    static func truncated(_ detail: String) -> BackupError {
        BackupError(.truncated, "the file is truncated: \(detail)")
    }

    static func manifest(_ detail: String) -> BackupError {
        BackupError(.manifestMismatch, "manifest mismatch: \(detail)")
    }

    static func malformed(_ detail: String) -> BackupError { BackupError(.malformed, "malformed backup: \(detail)") }

    static func io(_ operation: String, path: String, errno code: Int32) -> BackupError {
        BackupError(.io, "\(operation) \(path): errno \(code)")
    }

    public static func == (lhs: BackupError, rhs: BackupError) -> Bool { lhs.kind == rhs.kind }
}
