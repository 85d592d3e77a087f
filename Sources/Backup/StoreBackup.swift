import PortalCore
import Store

#if canImport(Glibc)
    import Glibc
#endif

/// Which store a backup is taken from or restored into.
public enum BackupStore: Sendable {
    /// The SQLite databases of a data directory (`PORTAL_DATA_DIR`).
    case sqlite(directory: String)
    /// The schema `mcp_documents` of a PostgreSQL database.
    case postgres(PostgresConnectionOptions)

    /// The manifest's name of the kind of store.
    var kind: String {
        switch self {
        case .sqlite: "sqlite"
        case .postgres: "postgresql"
        }
    }
}

/// `portal backup create`: a consistent snapshot of the store, encrypted into one file.
public enum StoreBackup {
    /// Takes a snapshot of `store` and writes it, encrypted under `key`, to `path` (mode 0600, atomically).
    /// - Returns: the manifest written.
    /// - Throws: `BackupError`, `StoreError`, or `BackupStoreError`; no file appears at `path` then.
    public static func create(
        from store: BackupStore, to path: String, key: BackupKey, clock: any PortalClock = SystemClock()
    ) throws -> BackupManifest {
        let writer = try BackupWriter(path: path, key: key)
        defer { writer.abandon() }
        let createdAt = clock.unixNanoseconds() / 1000
        var manifest: BackupManifest
        switch store {
        case .sqlite(let directory):
            manifest = try sqliteParts(directory, writer: writer, createdAt: createdAt)
        case .postgres(let options):
            let sink = WriterSink(writer)
            let summary = try PostgresSnapshot.export(options: options, into: sink)
            var parts = zip(summary.tables, sink.digests).map { table, digest in
                BackupManifest.Part(
                    name: PostgresSnapshot.partName(table: table.name), kind: "postgres-table",
                    byteCount: digest.byteCount, sha256: digest.sha256,
                    tables: [.init(name: table.name, rows: table.rows)], columns: table.columns)
            }
            if let digest = sink.digests.last {
                parts.append(
                    .init(
                        name: PostgresSnapshot.sequencesPartName, kind: "postgres-sequences",
                        byteCount: digest.byteCount, sha256: digest.sha256,
                        tables: [.init(name: "sequences", rows: summary.sequenceCount)]))
            }
            manifest = BackupManifest(
                store: store.kind, createdAtMicroseconds: createdAt,
                schemaVersions: [.init(name: "mcp_documents", versions: summary.migrations)], parts: parts)
        }
        try writer.finish(manifest: manifest)
        return manifest
    }

    /// Copies every database of `directory` into a private staging directory (one snapshot), streams each
    /// copy into `writer`, and describes them.
    private static func sqliteParts(
        _ directory: String, writer: BackupWriter, createdAt: Int64
    ) throws -> BackupManifest {
        let names = try SQLiteSnapshot.databaseFiles(in: directory)
        guard !names.isEmpty else {
            throw BackupStoreError("PORTAL_DATA_DIR: \(directory) holds no database to back up")
        }
        let staging = try StagingDirectory(in: directory)
        defer { staging.remove() }
        try SQLiteSnapshot.copy(names, from: directory, into: staging.path)
        var manifest = BackupManifest(store: "sqlite", createdAtMicroseconds: createdAt, schemaVersions: [], parts: [])
        for name in names {
            let path = staging.path + "/" + name
            try writer.beginPart(name)
            try StagingDirectory.stream(path) { try writer.write($0) }
            let digest = writer.endPart()
            // Inspected after streaming, so the bytes hashed are the bytes of the snapshot as copied.
            let database = try SQLiteSnapshot.inspect(path: path)
            manifest.parts.append(
                .init(
                    name: name, kind: "sqlite-database", byteCount: digest.byteCount, sha256: digest.sha256,
                    tables: database.tables.map { .init(name: $0.name, rows: $0.rows) }))
            manifest.schemaVersions.append(.init(name: name, versions: database.migrations))
        }
        return manifest
    }
}

/// A backup or restore that cannot proceed for a reason of the store (no database, data in the way).
public struct BackupStoreError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Feeds an export into a `BackupWriter` and keeps each part's digest.
final class WriterSink: StoreExportSink {
    private let writer: BackupWriter
    private(set) var digests: [BackupWriter.PartDigest] = []

    init(_ writer: BackupWriter) { self.writer = writer }

    func beginPart(_ name: String) throws { try writer.beginPart(name) }
    func write(_ bytes: UnsafeRawBufferPointer) throws { try writer.write(bytes) }
    func endPart() throws { digests.append(writer.endPart()) }
}
