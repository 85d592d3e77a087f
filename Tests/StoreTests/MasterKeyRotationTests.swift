import Foundation
import Testing

@testable import Store

/// Master-key rotation (`EventStore.rewrapKeys`) on SQLite and PostgreSQL: keys move from the previous master key
/// to the current one in batches, data and subject hashes stay, and a store of a third key is refused.
@Suite("Master-key rotation (SQLite and PostgreSQL)")
struct MasterKeyRotationTests {
    static let keyA = Array("rotation-master-key-A-\(UUID().uuidString)".utf8)
    static let keyB = Array("rotation-master-key-B-\(UUID().uuidString)".utf8)
    static let keyC = Array("rotation-master-key-C-\(UUID().uuidString)".utf8)

    static func master(_ secret: [UInt8]) throws -> MasterKey { try #require(MasterKey(secret: secret)) }

    /// The current key `current`, and `previous` during a rotation.
    static func encryption(_ current: [UInt8], previous: [UInt8]? = nil) throws -> EventEncryption {
        EventEncryption(masterKey: try master(current), previous: try previous.map(master))
    }

    /// Whether `error` is the `StoreError` of `operation` (`decrypt`, `master_key_id`, `no_master_key`).
    static func failed(_ error: any Error, _ operation: String) -> Bool {
        (error as? StoreError).map { "\($0.operation)" == operation } ?? false
    }

    private func event(_ subject: String, _ marker: String) -> NewEvent {
        NewEvent(
            eventType: "profile.updated", aggregateType: "person", aggregateID: subject,
            payloadJSON: "{\"name\":\"\(marker)\"}", metadataJSON: "{\"note\":\"\(marker)\"}")
    }

    /// Two events each of `count` subjects, `person-0` …, written under `fixture`'s store.
    private func writeSubjects(_ count: Int, _ fixture: StoreFixture) throws -> [StoredEvent] {
        var events: [StoredEvent] = []
        for index in 0..<count {
            for round in 0..<2 {
                events.append(try fixture.store.append(event("person-\(index)", "p\(index)-\(round)")))
            }
        }
        return events
    }

    /// `master_key_id|wrapped_key` of every live key, by key id.
    private func liveKeys(_ raw: RawRows) throws -> [String: String] {
        let rows = try raw.rows(
            "SELECT key_id, master_key_id, wrapped_key FROM \(raw.keys) WHERE wrapped_key IS NOT NULL")
        return Dictionary(
            uniqueKeysWithValues: rows.map { row in
                let parts = row.split(separator: "|", maxSplits: 1)
                return (String(parts[0]), String(parts[1]))
            })
    }

    @Test(
        "keys written under A move to B in several batches; B alone then reads, writes and erases; a rerun moves 0",
        arguments: StoreKind.allCases)
    func rotateThenCurrentKeyAlone(kind: StoreKind) throws {
        let fixture = try StoreFixture(kind, encryption: try Self.encryption(Self.keyA))
        let events = try writeSubjects(7, fixture)
        let raw = RawRows(fixture)
        let before = try liveKeys(raw)
        let a = try Self.master(Self.keyA), b = try Self.master(Self.keyB)
        // Seven data keys and the store's subject-hash key, all under A.
        #expect(before.count == 8 && before.values.allSatisfy { $0.hasPrefix(a.id + "|") })

        let rotating = try fixture.reopen(encryption: try Self.encryption(Self.keyB, previous: Self.keyA))
        let rotation = try rotating.rewrapKeys(batchSize: 3)
        #expect(rotation == MasterKeyRotation(rewrappedKeys: 8, batches: 3, currentKeys: 8, previousKeys: 0))
        let after = try liveKeys(raw)
        #expect(Set(after.keys) == Set(before.keys))
        #expect(after.values.allSatisfy { $0.hasPrefix(b.id + "|") }, "\(after)")
        #expect(before.allSatisfy { after[$0.key] != $0.value }, "every wrapped key is written anew")
        // Idempotent: nothing is left to move, and nothing is rewritten.
        let again = try rotating.rewrapKeys(batchSize: 3)
        #expect(again == MasterKeyRotation(rewrappedKeys: 0, batches: 0, currentKeys: 8, previousKeys: 0))
        #expect(try liveKeys(raw) == after)

        // B alone reads every event; A alone no longer opens them.
        let currentOnly = try fixture.reopen(encryption: try Self.encryption(Self.keyB))
        #expect(try events.allSatisfy { try currentOnly.event(id: $0.id) == $0 })
        #expect(try currentOnly.list(EventQuery(limit: 100)).events.count == events.count)
        let oldOnly = try fixture.reopen(encryption: try Self.encryption(Self.keyA))
        #expect { try oldOnly.event(id: events[0].id) } throws: { ($0 as? StoreError)?.isEncryptionFailure == true }

        // Subject hashes did not change: an existing subject keeps its data key, and erasure finds the subject.
        let more = try currentOnly.append(event("person-1", "after rotation"))
        #expect(more.version == 3)
        #expect(try liveKeys(raw).count == 8)
        let erasure = try currentOnly.eraseSubject("person-3", actor: "officer")
        #expect(erasure.subjectHash == a.subjectHash("person-3"))
        #expect(erasure.destroyedKeys == 1 && erasure.erasedEvents == 2)
        #expect(try currentOnly.event(id: events[6].id)?.erased == true)
        #expect(try currentOnly.event(id: events[8].id) == events[8])
    }

    @Test(
        "a key that does not open is skipped and named, the rest move, a rerun is stable; data layers read meanwhile",
        arguments: StoreKind.allCases)
    func damagedKeySkipped(kind: StoreKind) throws {
        let fixture = try StoreFixture(kind, encryption: try Self.encryption(Self.keyA))
        let events = try writeSubjects(6, fixture)
        let raw = RawRows(fixture)
        let b = try Self.master(Self.keyB)
        // Batches go in key-id order: the third data key is damaged, so that it sits inside the second batch.
        let damaged = try #require(
            try raw.rows("SELECT key_id FROM \(raw.keys) WHERE \(raw.dataKeysOnly) ORDER BY key_id LIMIT 1 OFFSET 2")
                .first)
        let damagedEvents = Set(try raw.rows("SELECT id FROM \(raw.events) WHERE key_id = '\(damaged)'"))
        let damagedSubject = try #require(
            try raw.rows("SELECT DISTINCT aggregate_id FROM \(raw.events) WHERE key_id = '\(damaged)'").first)
        let good = try #require(try liveKeys(raw)[damaged]?.split(separator: "|").last)
        try raw.execute("UPDATE \(raw.keys) SET wrapped_key = 'AAAA' || wrapped_key WHERE key_id = '\(damaged)'")

        // Six data keys and the subject-hash key, two per batch: four batches, all but the damaged key moved.
        let rotating = try fixture.reopen(encryption: try Self.encryption(Self.keyB, previous: Self.keyA))
        let rotation = try rotating.rewrapKeys(batchSize: 2)
        #expect(
            rotation
                == MasterKeyRotation(
                    rewrappedKeys: 6, batches: 4, currentKeys: 6, previousKeys: 1, skippedKeyIDs: [damaged]))
        let partial = try liveKeys(raw)
        #expect(partial.filter { $0.key != damaged }.values.allSatisfy { $0.hasPrefix(b.id + "|") }, "\(partial)")
        #expect(partial[damaged]?.hasPrefix(b.id) == false)
        // A rerun passes over it again, moves nothing and rewrites nothing.
        let again = try rotating.rewrapKeys(batchSize: 2)
        #expect(
            again
                == MasterKeyRotation(
                    rewrappedKeys: 0, batches: 0, currentKeys: 6, previousKeys: 1, skippedKeyIDs: [damaged]))
        #expect(try liveKeys(raw) == partial)

        // Meanwhile a data layer holding both keys reads every event whose key opens, and appends to every
        // subject but the damaged one and to a new one, whose data key is wrapped by B.
        let dataLayer = try fixture.reopen(encryption: try Self.encryption(Self.keyB, previous: Self.keyA))
        let readable = events.filter { !damagedEvents.contains($0.id) }
        #expect(readable.count == 10)
        #expect(try readable.allSatisfy { try dataLayer.event(id: $0.id) == $0 })
        var written: [StoredEvent] = []
        for index in 0..<6 where "person-\(index)" != damagedSubject {
            written.append(try dataLayer.append(event("person-\(index)", "during")))
        }
        written.append(try dataLayer.append(event("newcomer", "during")))
        let during = try liveKeys(raw)
        #expect(during.count == 8 && during.values.filter { $0.hasPrefix(b.id + "|") }.count == 7)

        // Repaired, the next run moves exactly that key, nothing twice.
        try raw.execute("UPDATE \(raw.keys) SET wrapped_key = '\(good)' WHERE key_id = '\(damaged)'")
        let rest = try rotating.rewrapKeys(batchSize: 2)
        #expect(rest == MasterKeyRotation(rewrappedKeys: 1, batches: 1, currentKeys: 8, previousKeys: 0))
        let currentOnly = try fixture.reopen(encryption: try Self.encryption(Self.keyB))
        #expect(try (events + written).allSatisfy { try currentOnly.event(id: $0.id) == $0 })
    }

    @Test("a store without keys: nothing is recorded and nothing moves", arguments: StoreKind.allCases)
    func emptyStore(kind: StoreKind) throws {
        let fixture = try StoreFixture(kind, encryption: try Self.encryption(Self.keyA))
        let raw = RawRows(fixture)
        let rotating = try fixture.reopen(encryption: try Self.encryption(Self.keyB, previous: Self.keyA))
        let rotation = try rotating.rewrapKeys(batchSize: 2)
        #expect(rotation == MasterKeyRotation(rewrappedKeys: 0, batches: 0, currentKeys: 0, previousKeys: 0))
        #expect(try raw.rows("SELECT key_id FROM \(raw.keys)").isEmpty)
    }

    @Test(
        "a store written by a version without a recorded subject-hash key keeps its first master key's hashes",
        arguments: StoreKind.allCases)
    func storeWithoutRecordedHashKey(kind: StoreKind) throws {
        let fixture = try StoreFixture(kind, encryption: try Self.encryption(Self.keyA))
        let events = try writeSubjects(3, fixture)
        let raw = RawRows(fixture)
        try raw.execute("DELETE FROM \(raw.keys) WHERE key_id = '\(SubjectHashKey.keyID)'")

        let rotating = try fixture.reopen(encryption: try Self.encryption(Self.keyB, previous: Self.keyA))
        #expect(try rotating.rewrapKeys(batchSize: 10).rewrappedKeys == 3)
        let recorded = try raw.rows(
            "SELECT master_key_id FROM \(raw.keys) WHERE key_id = '\(SubjectHashKey.keyID)'")
        #expect(recorded == [try Self.master(Self.keyB).id])
        let currentOnly = try fixture.reopen(encryption: try Self.encryption(Self.keyB))
        let erasure = try currentOnly.eraseSubject("person-2", actor: "officer")
        #expect(erasure.subjectHash == (try Self.master(Self.keyA).subjectHash("person-2")))
        #expect(erasure.destroyedKeys == 1 && erasure.erasedEvents == 2)
        #expect(try currentOnly.event(id: events[0].id) == events[0])
    }

    @Test(
        "keys of a third master key are refused and left as they were; no previous key, no rotation",
        arguments: StoreKind.allCases)
    func thirdMasterKeyRefused(kind: StoreKind) throws {
        let fixture = try StoreFixture(kind, encryption: try Self.encryption(Self.keyC))
        let events = try writeSubjects(2, fixture)
        let raw = RawRows(fixture)
        let before = try liveKeys(raw)

        let rotating = try fixture.reopen(encryption: try Self.encryption(Self.keyB, previous: Self.keyA))
        #expect(try rotating.masterKeyIDsInUse() == [try Self.master(Self.keyC).id])
        #expect { try rotating.rewrapKeys(batchSize: 5) } throws: { Self.failed($0, "master_key_id") }
        #expect(try liveKeys(raw) == before)
        // Nor when one key of a third master key sits among the previous key's.
        let mixed = try StoreFixture(kind, encryption: try Self.encryption(Self.keyA))
        _ = try writeSubjects(3, mixed)
        let mixedRaw = RawRows(mixed)
        try mixedRaw.execute(
            "UPDATE \(mixedRaw.keys) SET master_key_id = '\(try Self.master(Self.keyC).id)' WHERE key_id = "
                + "(SELECT min(key_id) FROM \(mixedRaw.keys))")
        let mixedBefore = try liveKeys(mixedRaw)
        let mixedRotating = try mixed.reopen(encryption: try Self.encryption(Self.keyB, previous: Self.keyA))
        #expect { try mixedRotating.rewrapKeys(batchSize: 1) } throws: { Self.failed($0, "master_key_id") }
        #expect(try liveKeys(mixedRaw) == mixedBefore)

        let notRotating = try fixture.reopen(encryption: try Self.encryption(Self.keyC))
        #expect { try notRotating.rewrapKeys(batchSize: 5) } throws: { Self.failed($0, "no_master_key") }
        #expect(try notRotating.event(id: events[0].id) == events[0])
    }
}
