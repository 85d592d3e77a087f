import Backup
import PortalCore
import Store

/// One-line descriptions of backups and of backup failures, with their E998x codes.
enum BackupSummary {
    /// `sqlite store, taken 2026-…, schema events.db [1, 2], 2 parts: events.db (events 10 rows, …), …`
    static func describe(_ manifest: BackupManifest) -> String {
        let schema = manifest.schemaVersions.map { "\($0.name) \($0.versions)" }.joined(separator: ", ")
        let parts = manifest.parts.map { part in
            let tables = part.tables.map { "\($0.name) \($0.rows) rows" }.joined(separator: ", ")
            return "\(part.name) (\(tables))"
        }
        return "\(manifest.store) store, taken \(RFC3339.format(unixMicroseconds: manifest.createdAtMicroseconds)), "
            + "schema \(schema), \(manifest.parts.count) parts: \(parts.joined(separator: "; "))"
    }

    /// `error` with its code: E9981 wrong key, E9982 altered chunk, E9983 truncated or appended, E9984 not a
    /// backup or manifest mismatch, E9985 refused by the store, E9986 storage failure.
    static func coded(_ error: any Error) -> String {
        switch error {
        case let error as BackupError:
            let code =
                switch error.kind {
                case .wrongKey: "E9981"
                case .tamperedChunk: "E9982"
                case .truncated, .trailingData: "E9983"
                case .notABackup, .unsupportedVersion, .malformed, .manifestMismatch: "E9984"
                case .io: "E9986"
                }
            return "\(code) \(error.description)"
        case let error as BackupStoreError: return "E9985 \(error.description)"
        case let error as PostgresRestore.Refusal: return "E9985 refused: \(error.description)"
        case let error as UsageError: return "E9985 \(error.description)"
        default: return "E9986 \(error)"
        }
    }
}
