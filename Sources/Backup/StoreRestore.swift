import Store

#if canImport(Glibc)
    import Glibc
#endif

/// `portal backup restore`: checks the whole file first, then writes it into the store, all or nothing.
public enum StoreRestore {
    /// Restores the backup at `path` into `store`.
    ///
    /// The file is read twice: once to check everything (key, every chunk, the end, the manifest) before anything
    /// is written, and once to load it, checked again on the way, so a file changed between the two passes is
    /// caught too. Nothing becomes visible until the second pass has succeeded.
    /// - Parameters:
    ///   - force: replace data the store already holds instead of refusing.
    /// - Throws: `BackupError` for a bad file, `BackupStoreError` or `PostgresRestore.Refusal` when the store
    ///   refuses, `StoreError` when it fails; the store is as it was then.
    ///   - beforeWriting: runs after the first pass, before anything is written (the CLI takes the data directory's
    ///     lock there); what it throws ends the restore.
    public static func restore(
        _ path: String, key: BackupKey, into store: BackupStore, force: Bool, beforeWriting: () throws -> Void = {}
    ) throws -> BackupManifest {
        let manifest = try BackupReader.read(path: path, key: key)
        guard manifest.store == store.kind else {
            throw BackupStoreError(
                "the backup holds a \(manifest.store) store; the settings name a \(store.kind) store")
        }
        try beforeWriting()
        switch store {
        case .sqlite(let directory):
            try restoreSQLite(path, key: key, manifest: manifest, into: directory, force: force)
        case .postgres(let options):
            try restorePostgres(path, key: key, manifest: manifest, options: options, force: force)
        }
        return manifest
    }

    private static func restorePostgres(
        _ path: String, key: BackupKey, manifest: BackupManifest, options: PostgresConnectionOptions, force: Bool
    ) throws {
        var tables: [PostgresSnapshot.Table] = []
        var partTables: [String: String] = [:]
        for part in manifest.parts where part.kind == "postgres-table" {
            guard let table = part.tables.first else { throw BackupError.malformed("part \(part.name) names no table") }
            tables.append(PostgresSnapshot.Table(name: table.name, columns: part.columns, rows: table.rows))
            partTables[part.name] = table.name
        }
        let session = try PostgresRestore(
            options: options, tables: tables, migrations: manifest.schemaVersions.first?.versions ?? [], force: force)
        do {
            let sink = PostgresRestoreSink(session: session, partTables: partTables)
            _ = try BackupReader.read(path: path, key: key, into: sink)
            try session.commit(sequences: sink.sequences)
        } catch {
            session.rollback()
            throw error
        }
    }

    private static func restoreSQLite(
        _ path: String, key: BackupKey, manifest: BackupManifest, into directory: String, force: Bool
    ) throws {
        for part in manifest.parts {
            guard part.kind == "sqlite-database", part.name.hasSuffix(".db"), !part.name.contains("/"),
                !part.name.hasPrefix(".")
            else { throw BackupError.malformed("part \(part.name) is not a database file name") }
        }
        let existing = manifest.parts.map(\.name).filter { access(directory + "/" + $0, F_OK) == 0 }
        guard force || existing.isEmpty else {
            throw BackupStoreError(
                "PORTAL_DATA_DIR: \(directory) already holds \(existing.joined(separator: ", ")); "
                    + "pass --force to replace them")
        }
        let staging = try StagingDirectory(in: directory)
        defer { staging.remove() }
        _ = try BackupReader.read(path: path, key: key, into: FileSink(directory: staging.path))
        // The staged copies must be sound and hold what the manifest says before they replace anything.
        for part in manifest.parts {
            let database = try SQLiteSnapshot.inspect(path: staging.path + "/" + part.name)
            guard database.tables.map(\.name) == part.tables.map(\.name),
                database.tables.map(\.rows) == part.tables.map(\.rows)
            else { throw BackupError.manifest("part \(part.name): its tables or row counts differ") }
        }
        try commitSQLite(manifest.parts.map(\.name), staging: staging.path, directory: directory)
    }

    /// Replaces each database in turn (each in one SQLite transaction); when one fails, those already replaced
    /// get their previous content back, and databases that did not exist before are removed.
    private static func commitSQLite(_ names: [String], staging: String, directory: String) throws {
        var done: [(name: String, previous: String?)] = []
        do {
            for name in names {
                let target = directory + "/" + name
                var previous: String?
                if access(target, F_OK) == 0 {
                    previous = staging + "/" + name + ".previous"
                    try SQLiteSnapshot.replace(previous!, with: target)
                }
                done.append((name, previous))
                try SQLiteSnapshot.replace(target, with: staging + "/" + name)
            }
        } catch {
            for (name, previous) in done.reversed() {
                let target = directory + "/" + name
                if let previous {
                    try? SQLiteSnapshot.replace(target, with: previous)
                } else {
                    for suffix in ["", "-wal", "-shm", "-journal"] { unlink(target + suffix) }
                }
            }
            throw error
        }
    }
}

/// Writes each part to a file of its name in a directory (the staging directory).
final class FileSink: BackupPartSink {
    private let directory: String
    private var file: StagedFile?

    init(directory: String) { self.directory = directory }

    func beginPart(_ name: String) throws {
        guard !name.contains("/"), !name.hasPrefix("."), !name.isEmpty else {
            throw BackupError.malformed("part \(name) is not a database file name")
        }
        file = try StagedFile(path: directory + "/" + name)
    }
    func write(_ bytes: UnsafeRawBufferPointer) throws { try file?.write(bytes) }

    func endPart(_ name: String) throws {
        try file?.close()
        file = nil
    }
}

/// Streams table parts into a PostgreSQL restore and keeps the sequences part.
final class PostgresRestoreSink: BackupPartSink {
    private let session: PostgresRestore
    private let partTables: [String: String]
    private var inSequences = false
    private(set) var sequences: [UInt8] = []

    init(session: PostgresRestore, partTables: [String: String]) {
        self.session = session
        self.partTables = partTables
    }

    func beginPart(_ name: String) throws {
        inSequences = name == PostgresSnapshot.sequencesPartName
        guard !inSequences else { return }
        guard let table = partTables[name] else { throw BackupError.manifest("part \(name) is not in the manifest") }
        try session.beginTable(table)
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        if inSequences { sequences += bytes } else { try session.write(bytes) }
    }

    func endPart(_ name: String) throws {
        if !inSequences { try session.endTable() }
        inSequences = false
    }
}
