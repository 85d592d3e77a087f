import Backup
import Foundation
import Synchronization
import Testing

@testable import Store

/// Backups of real SQLite stores: round trip, refusals that write nothing, and snapshots under concurrent writes.
@Suite("Backup of the SQLite store")
struct SQLiteBackupTests {
    /// A data directory with events, audit records, users, API keys, and an extra database nobody listed.
    static func populatedDirectory() throws -> String {
        let directory = BackupTestData.temporaryDirectory()
        let events = try SQLiteEventStore(directory: directory)
        try BackupTestData.appendEvents(events, count: 120)
        _ = try events.appendAuditRecords(AuditBatch(source: "gw-1", records: BackupTestData.auditChain(count: 40)))
        let credentials = try SQLiteCredentialStore(directory: directory)
        try credentials.createUser(
            UserRecord(
                username: "alice", passwordHash: "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA", roles: ["admin"],
                createdAt: 1_767_225_600))
        try credentials.insertAPIKey(
            APIKeyRecord(
                id: "spk_0123456789abcdef", name: "l03", secretHash: String(repeating: "ab", count: 32),
                roles: ["service"], scopes: ["events:read", "events:write"], createdAt: 1_767_225_600,
                expiresAt: 1_867_225_600))
        // A database added by someone else later (per-subject keys, say) must be in the backup too.
        let extra = try SQLiteConnection(path: directory + "/keys.db", busyTimeoutMilliseconds: 1000)
        try extra.execute("CREATE TABLE subject_keys (subject TEXT PRIMARY KEY, wrapped BLOB NOT NULL)")
        try extra.execute("INSERT INTO subject_keys VALUES ('alice', x'00ff10'), ('bob', x'')")
        return directory
    }

    /// Whether the two directories hold the same events, audit records, credentials and extra rows.
    static func expectSameData(_ original: String, _ restored: String) throws {
        let a = try SQLiteEventStore(directory: original), b = try SQLiteEventStore(directory: restored)
        #expect(try BackupTestData.allEvents(a) == BackupTestData.allEvents(b))
        #expect(try BackupTestData.allEvents(b).count >= 120)
        #expect(
            try a.auditRecords(source: "gw-1", afterSequence: 0, limit: 1000)
                == b.auditRecords(source: "gw-1", afterSequence: 0, limit: 1000))
        let c = try SQLiteCredentialStore(directory: original), d = try SQLiteCredentialStore(directory: restored)
        #expect(try c.users() == d.users())
        #expect(try c.apiKeys() == d.apiKeys())
        #expect(try d.users().map(\.username) == ["alice"])
        let extra = try SQLiteConnection(path: restored + "/keys.db", busyTimeoutMilliseconds: 1000)
        var rows: [String] = []
        try extra.query("SELECT subject || ':' || hex(wrapped) FROM subject_keys ORDER BY subject") {
            rows.append($0.text(0) ?? "")
        }
        #expect(rows == ["alice:00FF10", "bob:"])
    }

    /// The names in `directory` that are not hidden (the lock file and staging directories are).
    static func visibleFiles(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    @Test("events, audit records, credentials and an unlisted database come back identical")
    func roundTrip() throws {
        let source = try Self.populatedDirectory()
        let target = BackupTestData.temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: source)
            try? FileManager.default.removeItem(atPath: target)
        }
        let file = source + "/../" + UUID().uuidString + ".bak"
        defer { try? FileManager.default.removeItem(atPath: file) }
        let manifest = try StoreBackup.create(from: .sqlite(directory: source), to: file, key: try BackupTestData.key())
        #expect(manifest.parts.map(\.name) == ["credentials.db", "events.db", "keys.db"])
        let eventsPart = try #require(manifest.parts.first { $0.name == "events.db" })
        #expect(eventsPart.tables.first { $0.name == "events" }?.rows == 120)
        #expect(eventsPart.tables.first { $0.name == "audit_records" }?.rows == 40)
        #expect(manifest.schemaVersions.first { $0.name == "events.db" }?.versions == [1, 2, 3])
        // Nothing staged is left behind in the data directory.
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: source)).contains { $0.hasPrefix(".backup") })

        #expect(try BackupReader.read(path: file, key: try BackupTestData.key()) == manifest)
        _ = try StoreRestore.restore(
            file, key: try BackupTestData.key(), into: .sqlite(directory: target), force: false)
        try Self.expectSameData(source, target)
    }

    @Test("restore refuses existing data without --force, and with it replaces the data as of the backup")
    func force() throws {
        let source = try Self.populatedDirectory()
        defer { try? FileManager.default.removeItem(atPath: source) }
        let file = source + "/../" + UUID().uuidString + ".bak"
        defer { try? FileManager.default.removeItem(atPath: file) }
        _ = try StoreBackup.create(from: .sqlite(directory: source), to: file, key: try BackupTestData.key())
        let before = try BackupTestData.allEvents(try SQLiteEventStore(directory: source))
        try BackupTestData.appendEvents(try SQLiteEventStore(directory: source), count: 5, tag: "-later")
        #expect(throws: BackupStoreError.self) {
            try StoreRestore.restore(
                file, key: try BackupTestData.key(), into: .sqlite(directory: source), force: false)
        }
        #expect(try BackupTestData.allEvents(try SQLiteEventStore(directory: source)).count == 125)
        _ = try StoreRestore.restore(file, key: try BackupTestData.key(), into: .sqlite(directory: source), force: true)
        #expect(try BackupTestData.allEvents(try SQLiteEventStore(directory: source)) == before)
    }

    @Test("a *.db that is not a database (a store file replaced or damaged) fails the backup instead of being left out")
    func foreignDatabaseFileRefused() throws {
        let source = try Self.populatedDirectory()
        defer { try? FileManager.default.removeItem(atPath: source) }
        let file = source + "/../" + UUID().uuidString + ".bak"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Data("SPBACKUP and other bytes".utf8).write(to: URL(fileURLWithPath: source + "/events.db"))
        #expect(throws: StoreError.notADatabase) {
            _ = try StoreBackup.create(from: .sqlite(directory: source), to: file, key: try BackupTestData.key())
        }
        #expect(!FileManager.default.fileExists(atPath: file))
        // An empty *.db holds nothing to lose and is skipped.
        try FileManager.default.removeItem(atPath: source + "/events.db")
        #expect(FileManager.default.createFile(atPath: source + "/events.db", contents: nil))
        _ = try StoreBackup.create(from: .sqlite(directory: source), to: file, key: try BackupTestData.key())
    }

    @Test("when one database cannot be replaced, those already replaced get their previous content back")
    func failedCommitRollsBack() throws {
        let source = try Self.populatedDirectory()
        let target = BackupTestData.temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: source)
            try? FileManager.default.removeItem(atPath: target)
        }
        let file = source + "/../" + UUID().uuidString + ".bak"
        defer { try? FileManager.default.removeItem(atPath: file) }
        _ = try StoreBackup.create(from: .sqlite(directory: source), to: file, key: try BackupTestData.key())
        // The target's credentials.db holds other users; its events.db is in the way as a directory, so the
        // second database (in name order) fails after the first was replaced.
        let credentials = try SQLiteCredentialStore(directory: target)
        try credentials.createUser(UserRecord(username: "zed", passwordHash: "x", roles: [], createdAt: 1))
        try FileManager.default.createDirectory(atPath: target + "/events.db", withIntermediateDirectories: false)
        #expect(throws: StoreError.self) {
            try StoreRestore.restore(file, key: try BackupTestData.key(), into: .sqlite(directory: target), force: true)
        }
        #expect(try SQLiteCredentialStore(directory: target).users().map(\.username) == ["zed"])
        #expect(!FileManager.default.fileExists(atPath: target + "/keys.db"))
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: target)).contains { $0.hasPrefix(".backup") })
    }

    @Test("a tampered, truncated or wrongly keyed backup is refused by restore and nothing is written")
    func refusedRestoreWritesNothing() throws {
        let source = try Self.populatedDirectory()
        defer { try? FileManager.default.removeItem(atPath: source) }
        let file = source + "/../" + UUID().uuidString + ".bak"
        defer { try? FileManager.default.removeItem(atPath: file) }
        _ = try StoreBackup.create(from: .sqlite(directory: source), to: file, key: try BackupTestData.key())
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
        var flipped = bytes
        flipped[bytes.count - 30] ^= 0x01
        let wrongKey = try BackupKey(secret: Array(repeating: 0x41, count: 32))
        let cases: [(String, [UInt8], BackupKey, BackupError.Kind)] = [
            ("flipped byte in the last chunk", flipped, try BackupTestData.key(), .tamperedChunk),
            ("truncated", Array(bytes.dropLast(100)), try BackupTestData.key(), .truncated),
            ("wrong key", bytes, wrongKey, .wrongKey),
        ]
        for (name, content, key, kind) in cases {
            let damaged = file + ".damaged"
            #expect(FileManager.default.createFile(atPath: damaged, contents: Data(content)))
            let target = BackupTestData.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: target) }
            var beforeWritingRan = false
            let error = #expect(throws: BackupError.self, "\(name)") {
                try StoreRestore.restore(
                    damaged, key: key, into: .sqlite(directory: target), force: true,
                    beforeWriting: { beforeWritingRan = true })
            }
            #expect(error?.kind == kind, "\(name)")
            #expect(!beforeWritingRan, "\(name)")
            #expect(Self.visibleFiles(target).isEmpty, "\(name)")
            try? FileManager.default.removeItem(atPath: damaged)
        }
    }

    @Test("a backup taken while events are appended holds a consistent prefix: sequences 1...N, N in the manifest")
    func concurrentWrites() throws {
        let source = try Self.populatedDirectory()
        defer { try? FileManager.default.removeItem(atPath: source) }
        let store = try SQLiteEventStore(directory: source)
        let stop = Atomic<Bool>(false)
        let appended = Atomic<Int>(0)
        let writer = Thread {
            while !stop.load(ordering: .relaxed) {
                guard (try? BackupTestData.appendEvents(store, count: 1, tag: "-c")) != nil else { return }
                appended.add(1, ordering: .relaxed)
            }
        }
        writer.start()
        defer { stop.store(true, ordering: .relaxed) }
        // Wait until writes are under way, so the snapshots fall among them.
        let deadline = Date().addingTimeInterval(30)
        while appended.load(ordering: .relaxed) < 20 && Date() < deadline { usleep(1000) }
        var counts: [Int64] = []
        for round in 0..<3 {
            let file = source + "/../" + UUID().uuidString + ".bak"
            defer { try? FileManager.default.removeItem(atPath: file) }
            let manifest = try StoreBackup.create(
                from: .sqlite(directory: source), to: file, key: try BackupTestData.key())
            let rows = try #require(
                manifest.parts.first { $0.name == "events.db" }?.tables.first { $0.name == "events" }?.rows)
            let target = BackupTestData.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: target) }
            _ = try StoreRestore.restore(
                file, key: try BackupTestData.key(), into: .sqlite(directory: target), force: false)
            let events = try BackupTestData.allEvents(try SQLiteEventStore(directory: target))
            #expect(events.map(\.sequence) == Array(1...Int64(events.count)), "round \(round)")
            #expect(Int64(events.count) == rows, "round \(round)")
            counts.append(rows)
            usleep(20_000)
        }
        stop.store(true, ordering: .relaxed)
        // The writer really ran beside the snapshots: they saw different, growing numbers of events.
        #expect(counts.first! > 120)
        #expect(counts.last! > counts.first!)
    }
}
