import Crypto
import Foundation
import PortalCore
import PostgresTestSupport
import Testing

@testable import Store

/// Encryption at rest and crypto-shredding erasure, on SQLite and PostgreSQL alike, checked against the raw rows.
@Suite("Encryption at rest and erasure (SQLite and PostgreSQL)")
struct EncryptionAtRestTests {
    static let secret = Array("test-master-key-of-at-least-32-bytes-\(UUID().uuidString)".utf8)

    static func encryption(_ secret: [UInt8] = EncryptionAtRestTests.secret) throws -> EventEncryption {
        EventEncryption(masterKey: try #require(MasterKey(secret: secret)))
    }

    private func event(_ subject: String, marker: String, type: String = "profile.updated") -> NewEvent {
        NewEvent(
            eventType: type, aggregateType: "person", aggregateID: subject,
            payloadJSON: "{\"name\":\"\(marker)\"}", metadataJSON: "{\"note\":\"meta-\(marker)\"}")
    }

    @Test(
        "payload and metadata are sealed in the row, and read back opened by id and in lists",
        arguments: StoreKind.allCases)
    func sealedAtRest(kind: StoreKind) throws {
        let encryption = try Self.encryption()
        let fixture = try StoreFixture(kind, encryption: encryption)
        let marker = "Alice Liddell " + UUID().uuidString
        let stored = try fixture.store.append(event("alice", marker: marker))
        let raw = RawRows(fixture)
        let row = try raw.rows("SELECT payload, metadata, key_id, format FROM \(raw.events) WHERE id = '\(stored.id)'")
        #expect(row.count == 1)
        #expect(!row[0].contains(marker) && !row[0].contains("Alice"), "\(row)")
        #expect(row[0].hasSuffix("|3"))
        let keys = try raw.rows(
            "SELECT subject_hash, master_key_id, wrapped_key FROM \(raw.keys) WHERE \(raw.dataKeysOnly)")
        #expect(keys.count == 1 && !keys[0].contains("alice"))
        #expect(keys[0].contains(encryption.masterKey.id))
        #expect(keys[0].hasPrefix(encryption.masterKey.subjectHash("alice")))
        // Read back through the store, with the key cached and after a restart that must unwrap it again.
        #expect(try fixture.store.event(id: stored.id) == stored)
        #expect(try fixture.store.list(EventQuery(aggregateID: "alice")).events == [stored])
        let restarted = try fixture.reopen(encryption: try Self.encryption())
        #expect(try restarted.event(id: stored.id) == stored)
        // Another master key, or none, reads an error, never ciphertext as if it were the payload.
        let other = try fixture.reopen(encryption: try Self.encryption(Array(repeating: 0x41, count: 40)))
        #expect { try other.event(id: stored.id) } throws: { ($0 as? StoreError)?.isEncryptionFailure == true }
        let none = try fixture.reopen()
        #expect { try none.list(EventQuery()) } throws: { ($0 as? StoreError)?.isEncryptionFailure == true }
    }

    @Test("a sealed value moved to another row or to the other column does not open", arguments: StoreKind.allCases)
    func additionalDataBindsRowAndColumn(kind: StoreKind) throws {
        let fixture = try StoreFixture(kind, encryption: try Self.encryption())
        let a = try fixture.store.append(event("alice", marker: "first"))
        let b = try fixture.store.append(event("alice", marker: "second"))
        let c = try fixture.store.append(event("alice", marker: "third"))
        let raw = RawRows(fixture)
        // Same subject, same data key: only the record id in the additional data tells the rows apart.
        try raw.execute(
            "UPDATE \(raw.events) SET payload = (SELECT payload FROM \(raw.events) WHERE id = '\(a.id)') "
                + "WHERE id = '\(b.id)'")
        try raw.execute("UPDATE \(raw.events) SET payload = metadata, metadata = payload WHERE id = '\(c.id)'")
        for id in [b.id, c.id] {
            #expect { try fixture.store.event(id: id) } throws: { ($0 as? StoreError)?.isEncryptionFailure == true }
        }
        #expect(try fixture.store.event(id: a.id) == a)
        #expect { try fixture.store.list(EventQuery()) } throws: { ($0 as? StoreError)?.isEncryptionFailure == true }
    }

    @Test(
        "a sealed row moved to another subject, retyped, renumbered, re-dated or relabelled v1 does not open",
        arguments: StoreKind.allCases)
    func additionalDataBindsTheRow(kind: StoreKind) throws {
        let fixture = try StoreFixture(kind, encryption: try Self.encryption())
        let neighbour = try fixture.store.append(event("alice", marker: "neighbour"))
        let raw = RawRows(fixture)
        // Each a write the database allows and a reader would act on: erasure finds rows by aggregate id,
        // retention by created_at (back-dated to be purged, or 1 µs later to show that nothing is rounded).
        let microseconds = kind == .sqlite ? "" : " * INTERVAL '1 microsecond'"
        let edits = [
            "aggregate_id = 'bob'", "event_type = 'profile.deleted'", "aggregate_type = 'account'",
            "version = version + 100", "created_at = created_at - 31536000000000\(microseconds)",
            "created_at = created_at + 1\(microseconds)", "format = \(EventFormat.sealedV1.rawValue)",
        ]
        for edit in edits {
            let target = try fixture.store.append(event("alice", marker: "target"))
            #expect(try fixture.store.event(id: target.id) == target)
            try raw.execute("UPDATE \(raw.events) SET \(edit) WHERE id = '\(target.id)'")
            #expect(throws: StoreError.undecryptable, "\(edit)") { try fixture.store.event(id: target.id) }
            #expect(try fixture.store.event(id: neighbour.id) == neighbour, "\(edit)")
        }
        // After a restart too, where the data key is unwrapped again rather than found in the cache.
        let restarted = try fixture.reopen(encryption: try Self.encryption())
        #expect(try restarted.event(id: neighbour.id) == neighbour)
        #expect(throws: StoreError.undecryptable) { try restarted.list(EventQuery(aggregateID: "bob")) }
    }

    @Test(
        "a row sealed in format 1 by an earlier version still reads, after a restart too, and erasure covers it",
        arguments: StoreKind.allCases)
    func formatOneStillReads(kind: StoreKind) throws {
        let encryption = try Self.encryption()
        let fixture = try StoreFixture(kind, encryption: encryption)
        let stored = try fixture.store.append(event("alice", marker: "sealed-by-v1"))
        let raw = RawRows(fixture)
        // Sealed again as earlier versions did: v1 additional data under the same data key, format 1.
        let keyID = try #require(try raw.rows("SELECT key_id FROM \(raw.events) WHERE id = '\(stored.id)'").first)
        let key = try #require(encryption.cache.key(keyID))
        let binding = SealedBinding.v1(eventID: stored.id, keyID: keyID)
        let payload = EventSealing.seal(stored.payloadJSON, column: .payload, binding: binding, key: key)
        let metadata = EventSealing.seal(stored.metadataJSON, column: .metadata, binding: binding, key: key)
        try raw.execute(
            "UPDATE \(raw.events) SET payload = '\(payload)', metadata = '\(metadata)', "
                + "format = \(EventFormat.sealedV1.rawValue) WHERE id = '\(stored.id)'")
        #expect(try raw.rows("SELECT format FROM \(raw.events) WHERE id = '\(stored.id)'") == ["1"])
        #expect(try fixture.store.event(id: stored.id) == stored)
        #expect(try fixture.reopen(encryption: try Self.encryption()).event(id: stored.id) == stored)
        // Relabelled format 3, a v1 row does not open either.
        try raw.execute("UPDATE \(raw.events) SET format = 3 WHERE id = '\(stored.id)'")
        #expect(throws: StoreError.undecryptable) { try fixture.store.event(id: stored.id) }
        try raw.execute("UPDATE \(raw.events) SET format = 1 WHERE id = '\(stored.id)'")

        let erasure = try fixture.store.eraseSubject("alice", actor: "admin")
        #expect(erasure.erasedEvents == 1)
        let read = try #require(try fixture.store.event(id: stored.id))
        #expect(read.erased && read.payloadJSON == "null" && read.aggregateID == "erased:" + stored.id)
    }

    @Test(
        "created_at is sealed as the row reads it back: exact microseconds, and past 2^53 µs what PostgreSQL keeps",
        arguments: StoreKind.allCases)
    func createdAtRoundTrips(kind: StoreKind) throws {
        // An odd microsecond now, then 2^53 + 1 µs (the year 2255), where PostgreSQL's float8 interval rounds.
        let clock = ManualClock(unixSeconds: 1_767_225_600)
        clock.advance(nanoseconds: 123_457_000)
        let fixture = try StoreFixture(kind, clock: clock, encryption: try Self.encryption())
        let now = try fixture.store.append(event("alice", marker: "now"))
        #expect(now.createdAtMicroseconds == 1_767_225_600_123_457)
        clock.advance(nanoseconds: UInt64(9_007_199_254_740_993 - now.createdAtMicroseconds) * 1000)
        let far = try fixture.store.append(event("alice", marker: "far"))
        #expect(abs(far.createdAtMicroseconds - 9_007_199_254_740_993) <= 1)
        if kind == .sqlite { #expect(far.createdAtMicroseconds == 9_007_199_254_740_993) }
        let restarted = try fixture.reopen(encryption: try Self.encryption())
        #expect(try restarted.list(EventQuery(aggregateID: "alice")).events == [now, far])
    }

    @Test("an altered byte of ciphertext is a read error, not garbage", arguments: StoreKind.allCases)
    func tamperedCiphertext(kind: StoreKind) throws {
        let fixture = try StoreFixture(kind, encryption: try Self.encryption())
        let stored = try fixture.store.append(event("alice", marker: "tamper-me"))
        let raw = RawRows(fixture)
        let payload = try #require(try raw.rows("SELECT payload FROM \(raw.events) WHERE id = '\(stored.id)'").first)
        var bytes = Array(payload.utf8)
        bytes[20] = bytes[20] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        let altered = String(decoding: bytes, as: UTF8.self)
        try raw.execute("UPDATE \(raw.events) SET payload = '\(altered)' WHERE id = '\(stored.id)'")
        #expect { try fixture.store.event(id: stored.id) } throws: { error in
            (error as? StoreError)?.isEncryptionFailure == true && "\(error)".contains("decrypt")
        }
    }

    @Test(
        "erasure destroys the subject's key, overwrites its rows (plaintext ones too), leaves others intact",
        arguments: StoreKind.allCases)
    func erasure(kind: StoreKind) throws {
        let encryption = try Self.encryption()
        let fixture = try StoreFixture(kind, encryption: encryption)
        // A row from before encryption at rest: plaintext, format 0; it still reads, and erasure covers it.
        let legacyMarker = "legacy-" + UUID().uuidString
        let legacy = try fixture.reopen().append(event("alice", marker: legacyMarker))
        #expect(try fixture.store.event(id: legacy.id) == legacy)
        let alice = [
            try fixture.store.append(event("alice", marker: "a1")),
            try fixture.store.append(event("alice", marker: "a2")),
        ]
        let bob = try fixture.store.append(event("bob", marker: "bob's data"))
        let cachedBefore = encryption.cachedKeyCount

        let erasure = try fixture.store.eraseSubject("alice", actor: "admin-7")
        #expect(erasure.erasedEvents == 3 && erasure.destroyedKeys == 1)
        #expect(erasure.subjectHash == encryption.masterKey.subjectHash("alice"))
        #expect(encryption.cachedKeyCount == cachedBefore - 1)
        for original in [legacy] + alice {
            let read = try #require(try fixture.store.event(id: original.id))
            #expect(read.erased && read.payloadJSON == "null" && read.metadataJSON == "null")
            #expect(read.aggregateID == "erased:" + original.id && read.version == original.version)
        }
        #expect(try fixture.store.event(id: bob.id) == bob)
        #expect(try fixture.store.list(EventQuery(aggregateID: "alice")).events.isEmpty)
        let all = try fixture.store.list(EventQuery()).events
        #expect(all.filter(\.erased).map(\.id) == ([legacy] + alice).map(\.id))
        #expect(all.contains(bob))

        // The record names the subject by its keyed hash only.
        let records = try fixture.store.list(EventQuery(eventType: SubjectErasure.recordType)).events
        #expect(records.map(\.id) == [erasure.recordID])
        #expect(records[0].aggregateID == "subject:" + erasure.subjectHash)
        #expect(records[0].payloadJSON.contains(erasure.subjectHash) && records[0].payloadJSON.contains("admin-7"))
        #expect(!records[0].payloadJSON.contains("alice"))

        // In the raw tables: no wrapped key left for the subject, nothing that names it or holds its data.
        let raw = RawRows(fixture)
        let keys = try raw.rows(
            "SELECT wrapped_key IS NULL, destroyed_at IS NOT NULL FROM \(raw.keys) "
                + "WHERE subject_hash = '\(erasure.subjectHash)'")
        #expect(keys == [raw.trueText + "|" + raw.trueText])
        let rows = try raw.rows("SELECT aggregate_id, payload, metadata FROM \(raw.events)")
        #expect(!rows.contains { $0.contains("alice") || $0.contains(legacyMarker) }, "\(rows)")

        // Idempotent, and a later event of the same subject gets a fresh key.
        let again = try fixture.store.eraseSubject("alice", actor: "admin-7")
        #expect(again.erasedEvents == 0 && again.destroyedKeys == 0 && again.subjectHash == erasure.subjectHash)
        let later = try fixture.store.append(event("alice", marker: "new start"))
        #expect(later.version == 1)
        #expect(try fixture.reopen(encryption: try Self.encryption()).event(id: later.id) == later)
        #expect(
            try raw.rows("SELECT key_id FROM \(raw.keys) WHERE wrapped_key IS NOT NULL AND \(raw.dataKeysOnly)").count
                == 2)
    }

    @Test("after erasure the SQLite files hold neither the subject's plaintext nor its wrapped data key")
    func sqliteFilesAfterErasure() throws {
        let fixture = try StoreFixture(.sqlite, encryption: try Self.encryption())
        let marker = "legacy-" + UUID().uuidString
        _ = try fixture.reopen().append(event("alice", marker: marker))
        for index in 0..<20 { _ = try fixture.store.append(event("alice", marker: "sealed-\(index)")) }
        _ = try fixture.store.append(event("bob", marker: "bob"))
        let raw = RawRows(fixture)
        let hash = try #require(MasterKey(secret: Self.secret)).subjectHash("alice")
        let wrapped = try #require(
            try raw.rows("SELECT wrapped_key FROM subject_keys WHERE subject_hash = '\(hash)'").first)
        let directory = try #require(fixture.sqliteDirectory)
        #expect(try Self.filesContain(directory, [marker, wrapped]) == [marker: true, wrapped: true])

        _ = try fixture.store.eraseSubject("alice", actor: "admin")
        #expect(try Self.filesContain(directory, [marker, wrapped]) == [marker: false, wrapped: false])
    }

    /// Whether any file of `directory` holds each of `needles`.
    static func filesContain(_ directory: String, _ needles: [String]) throws -> [String: Bool] {
        var found = Dictionary(uniqueKeysWithValues: needles.map { ($0, false) })
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name))
            for needle in needles where data.range(of: Data(needle.utf8)) != nil { found[needle] = true }
        }
        return found
    }
}

/// Raw SQL on a fixture's database, around the store: rows as `|`-joined text.
struct RawRows {
    let fixture: StoreFixture

    init(_ fixture: StoreFixture) { self.fixture = fixture }

    var events: String { fixture.kind == .sqlite ? "events" : "mcp_documents.events" }
    var keys: String { fixture.kind == .sqlite ? "subject_keys" : "mcp_documents.subject_keys" }
    /// A condition that leaves out the store's own subject-hash key, so that only subjects' data keys count.
    var dataKeysOnly: String { "key_id <> '\(SubjectHashKey.keyID)'" }
    /// How a boolean true reads back.
    var trueText: String { fixture.kind == .sqlite ? "1" : "t" }

    func rows(_ sql: String) throws -> [String] {
        switch fixture.kind {
        case .postgres:
            return try PostgresServer.debian.admin(sql, database: fixture.database ?? "")
        case .sqlite:
            let connection = try SQLiteConnection(
                path: (fixture.sqliteDirectory ?? "") + "/events.db", busyTimeoutMilliseconds: 5000)
            var rows: [String] = []
            try connection.query(sql) { row in
                rows.append((0..<row.columnCount).map { row.text($0) ?? "" }.joined(separator: "|"))
            }
            return rows
        }
    }

    func execute(_ sql: String) throws {
        switch fixture.kind {
        case .postgres: try PostgresServer.debian.admin(sql, database: fixture.database ?? "")
        case .sqlite:
            let connection = try SQLiteConnection(
                path: (fixture.sqliteDirectory ?? "") + "/events.db", busyTimeoutMilliseconds: 5000)
            try connection.execute(sql)
        }
    }
}
