import Backup
import Foundation
import PostgresTestSupport
import Testing

@testable import Store

/// Backups of a real PostgreSQL store (the Debian cluster `make test` starts): round trip, refusals, snapshots
/// under concurrent writes.
@Suite("Backup of the PostgreSQL store")
struct PostgresBackupTests {
    /// A fresh database with the store's schema, and an extra table of awkward values nobody listed.
    final class Database {
        let name: String
        let store: PostgresEventStore
        let options: PostgresConnectionOptions

        init(extraTable: Bool = true) throws {
            let server = PostgresServer.debian
            name = try server.createDatabase()
            options = try server.options(database: name, timeoutSeconds: 10)
            store = try PostgresEventStore(pool: PostgresConnectionPool(options: options, size: 2))
            if extraTable {
                try server.admin(
                    "CREATE TABLE mcp_documents.unlisted_rows (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                        + "subject text, wrapped bytea, note text)", database: name)
            }
        }

        @discardableResult
        func psql(_ sql: String) throws -> [String] { try PostgresServer.debian.admin(sql, database: name) }

        deinit {
            store.pool.close()
            PostgresServer.debian.dropDatabase(name)
        }
    }

    static func populate(_ database: Database) throws {
        try BackupTestData.appendEvents(database.store, count: 150)
        _ = try database.store.appendAuditRecords(
            AuditBatch(source: "gw-1", records: BackupTestData.auditChain(count: 60)))
        try database.psql(
            "INSERT INTO mcp_documents.unlisted_rows (subject, wrapped, note) VALUES "
                + "('alice', '\\x00ff0a09'::bytea, E'tab\\there\\nnewline \\\\ back'), (NULL, NULL, NULL), "
                + "('bob', ''::bytea, 'é 🌍')")
    }

    /// Every table of the schema as text, in a stable order, for comparing two databases.
    static func dump(_ database: Database) throws -> [String] {
        try database.psql(
            """
            SELECT 'events', (SELECT json_agg(e ORDER BY sequence)::text FROM mcp_documents.events e)
            UNION ALL SELECT 'audit', (SELECT json_agg(a ORDER BY source_id, sequence)::text
                FROM mcp_documents.audit_records a)
            UNION ALL SELECT 'keys', (SELECT json_agg(k ORDER BY id)::text FROM mcp_documents.unlisted_rows k)
            UNION ALL SELECT 'migrations', (SELECT string_agg(version::text, ',' ORDER BY version)
                FROM mcp_documents.schema_migrations)
            """)
    }

    static func backupFile() -> String { NSTemporaryDirectory() + "pg-backup-" + UUID().uuidString + ".bak" }

    @Test("events, audit records and an unlisted table come back identical, and sequences continue after them")
    func roundTrip() throws {
        let source = try Database()
        try Self.populate(source)
        let file = Self.backupFile()
        defer { try? FileManager.default.removeItem(atPath: file) }
        let manifest = try StoreBackup.create(from: .postgres(source.options), to: file, key: try BackupTestData.key())
        #expect(manifest.store == "postgresql")
        #expect(manifest.schemaVersions.first?.versions == [1, 2, 3, 4, 5])
        let rows = Dictionary(uniqueKeysWithValues: manifest.parts.flatMap(\.tables).map { ($0.name, $0.rows) })
        #expect(rows["events"] == 150)
        #expect(rows["audit_records"] == 60)
        #expect(rows["unlisted_rows"] == 3)
        #expect(rows["schema_migrations"] == 5)
        // The credential tables (migration 3) are in it too, found in the catalog like any other.
        for table in ["users", "api_keys", "refresh_tokens", "revoked_tokens"] { #expect(rows[table] == 0, "\(table)") }

        let target = try Database()
        _ = try StoreRestore.restore(file, key: try BackupTestData.key(), into: .postgres(target.options), force: false)
        let dumped = try Self.dump(target)
        #expect(dumped == (try Self.dump(source)))
        #expect(dumped.first?.contains("🌍") == true)
        // Identity sequences were carried over: the next rows continue after the restored ones.
        let next = try target.store.append(
            NewEvent(eventType: "story.created", aggregateType: "story", aggregateID: "story-0", payloadJSON: "{}"))
        #expect(next.sequence == 151)
        #expect(
            try target.psql("INSERT INTO mcp_documents.unlisted_rows (subject) VALUES ('carol') RETURNING id") == ["4"])
        // The append-only guard is on again after the load.
        #expect(throws: (any Error).self) { try target.psql("DELETE FROM mcp_documents.audit_records") }
    }

    @Test("sealed events restored into another database open there under the same master key, to the microsecond")
    func sealedRoundTrip() throws {
        let source = try Database(extraTable: false)
        let target = try Database(extraTable: false)
        // Sessions in two time zones: created_at crosses as text with an offset, and a sealed row is bound to it.
        try source.psql("ALTER DATABASE \(source.name) SET timezone = 'Asia/Kathmandu'")
        try target.psql("ALTER DATABASE \(target.name) SET timezone = 'America/St_Johns'")
        let secret = Array(repeating: UInt8(0x5A), count: 32)
        let sealing = try PostgresEventStore(
            pool: PostgresConnectionPool(options: source.options, size: 1),
            encryption: EventEncryption(masterKey: try #require(MasterKey(secret: secret))))
        defer { sealing.pool.close() }
        try BackupTestData.appendEvents(sealing, count: 20)
        let written = try BackupTestData.allEvents(sealing)
        #expect(try source.psql("SELECT DISTINCT format FROM mcp_documents.events") == ["3"])
        let file = Self.backupFile()
        defer { try? FileManager.default.removeItem(atPath: file) }
        _ = try StoreBackup.create(from: .postgres(source.options), to: file, key: try BackupTestData.key())
        _ = try StoreRestore.restore(file, key: try BackupTestData.key(), into: .postgres(target.options), force: false)
        let reading = try PostgresEventStore(
            pool: PostgresConnectionPool(options: target.options, size: 1),
            encryption: EventEncryption(masterKey: try #require(MasterKey(secret: secret))))
        defer { reading.pool.close() }
        #expect(try BackupTestData.allEvents(reading) == written)
        #expect(try target.psql("SELECT count(*) FROM mcp_documents.events WHERE format = 3") == ["20"])
    }

    @Test("restore refuses a schema that holds rows unless --force, which replaces them in one transaction")
    func force() throws {
        let source = try Database()
        try Self.populate(source)
        let file = Self.backupFile()
        defer { try? FileManager.default.removeItem(atPath: file) }
        _ = try StoreBackup.create(from: .postgres(source.options), to: file, key: try BackupTestData.key())
        let expected = try Self.dump(source)
        try BackupTestData.appendEvents(source.store, count: 3, tag: "-later")
        #expect(throws: PostgresRestore.Refusal.self) {
            try StoreRestore.restore(file, key: try BackupTestData.key(), into: .postgres(source.options), force: false)
        }
        #expect(try source.psql("SELECT count(*) FROM mcp_documents.events") == ["153"])
        _ = try StoreRestore.restore(file, key: try BackupTestData.key(), into: .postgres(source.options), force: true)
        #expect(try Self.dump(source) == expected)
    }

    @Test("a tampered, truncated or wrongly keyed backup is refused by restore; the target keeps its rows")
    func refusedRestoreWritesNothing() throws {
        let source = try Database()
        try Self.populate(source)
        let file = Self.backupFile()
        defer { try? FileManager.default.removeItem(atPath: file) }
        _ = try StoreBackup.create(from: .postgres(source.options), to: file, key: try BackupTestData.key())
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
        var flipped = bytes
        flipped[bytes.count / 2] ^= 0x01
        let target = try Database()
        _ = try target.store.append(
            NewEvent(eventType: "kept", aggregateType: "story", aggregateID: "x", payloadJSON: "{}"))
        let before = try Self.dump(target)
        let wrongKey = try BackupKey(secret: Array(repeating: 0x42, count: 40))
        for (name, content, key) in [
            ("flipped byte", flipped, try BackupTestData.key()),
            ("truncated", Array(bytes.dropLast(17)), try BackupTestData.key()),
            ("wrong key", bytes, wrongKey),
        ] {
            let damaged = file + ".damaged"
            #expect(FileManager.default.createFile(atPath: damaged, contents: Data(content)))
            #expect(throws: BackupError.self, "\(name)") {
                try StoreRestore.restore(damaged, key: key, into: .postgres(target.options), force: true)
            }
            #expect(try Self.dump(target) == before, "\(name)")
            try? FileManager.default.removeItem(atPath: damaged)
        }
    }

    @Test("a load that fails midway (a row the target refuses) rolls back: --force leaves the old rows in place")
    func failedLoadRollsBack() throws {
        let source = try Database()
        try Self.populate(source)
        let file = Self.backupFile()
        defer { try? FileManager.default.removeItem(atPath: file) }
        _ = try StoreBackup.create(from: .postgres(source.options), to: file, key: try BackupTestData.key())
        let target = try Database()
        try BackupTestData.appendEvents(target.store, count: 4, tag: "-target")
        // The target refuses one of the backup's keys rows, after events and audit records have been loaded.
        try target.psql("ALTER TABLE mcp_documents.unlisted_rows ADD CONSTRAINT no_bob CHECK (subject <> 'bob')")
        let before = try Self.dump(target)
        #expect(throws: StoreError.self) {
            try StoreRestore.restore(file, key: try BackupTestData.key(), into: .postgres(target.options), force: true)
        }
        #expect(try Self.dump(target) == before)
        // The append-only guard was not left disabled by the abandoned load (TRUNCATE fires it on an empty table).
        #expect(throws: (any Error).self) { try target.psql("TRUNCATE mcp_documents.audit_records") }
        // No session of the restore lingers in its transaction, holding the tables' locks.
        let lingering =
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in%'"
        let deadline = Date().addingTimeInterval(10)
        while try target.psql(lingering) != ["0"] && Date() < deadline { usleep(50_000) }
        #expect(try target.psql(lingering) == ["0"])
    }

    @Test("a backup taken while two tables are written in one transaction each holds them at one moment")
    func concurrentWrites() throws {
        let source = try Database(extraTable: false)
        try source.psql(
            "CREATE TABLE mcp_documents.probe_a (n int); CREATE TABLE mcp_documents.probe_b (n int); "
                + "INSERT INTO mcp_documents.probe_a SELECT 0 FROM generate_series(1, 100000); "
                + "INSERT INTO mcp_documents.probe_b SELECT 0 FROM generate_series(1, 100000)")
        // Each iteration writes both tables and commits; a copy that read them at two moments would differ (the
        // 100,000 rows of padding make copying probe_a last long enough for several commits to fall after it).
        let name = source.name
        let writer = Thread {
            _ = try? PostgresServer.debian.psql(
                """
                DO $$ BEGIN FOR i IN 6..4000 LOOP
                    INSERT INTO mcp_documents.probe_a VALUES (i); PERFORM pg_sleep(0.001);
                    INSERT INTO mcp_documents.probe_b VALUES (i); COMMIT;
                END LOOP; END $$
                """, database: name)
        }
        writer.start()
        let deadline = Date().addingTimeInterval(30)
        while (try? source.psql("SELECT count(*) FROM mcp_documents.probe_b").first.flatMap { Int($0) } ?? 0) ?? 0
            < 100_050,
            Date() < deadline
        {
            usleep(10_000)
        }
        var seen: [Int64] = []
        for round in 0..<3 {
            let file = Self.backupFile()
            defer { try? FileManager.default.removeItem(atPath: file) }
            let manifest = try StoreBackup.create(
                from: .postgres(source.options), to: file, key: try BackupTestData.key())
            let rows = Dictionary(uniqueKeysWithValues: manifest.parts.flatMap(\.tables).map { ($0.name, $0.rows) })
            #expect(rows["probe_a"] == rows["probe_b"], "round \(round)")
            let target = try Database(extraTable: false)
            try target.psql("CREATE TABLE mcp_documents.probe_a (n int); CREATE TABLE mcp_documents.probe_b (n int)")
            _ = try StoreRestore.restore(
                file, key: try BackupTestData.key(), into: .postgres(target.options), force: false)
            let counts = try target.psql(
                "SELECT (SELECT count(*) FROM mcp_documents.probe_a) || ' ' "
                    + "|| (SELECT count(*) FROM mcp_documents.probe_b)")
            #expect(counts == ["\(rows["probe_a"] ?? -1) \(rows["probe_b"] ?? -2)"], "round \(round)")
            seen.append(rows["probe_a"] ?? 0)
            usleep(50_000)
        }
        _ = try? source.psql(
            "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                + "AND pid <> pg_backend_pid()")
        // The snapshots fell among the writes: each saw more rows than the one before.
        #expect(seen[0] >= 100_050)
        #expect(seen[2] > seen[0])
    }
}
