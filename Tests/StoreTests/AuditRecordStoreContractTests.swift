import Foundation
import PostgresTestSupport
import Testing

@testable import Store

/// The `AuditRecordStore` contract, run against SQLite and PostgreSQL alike.
@Suite("AuditRecordStore contract (SQLite and PostgreSQL)")
struct AuditRecordStoreContractTests {
    static let genesis = String(repeating: "0", count: 64)

    /// A linked chain of `count` records starting at `from`, whose first links to `previous`.
    static func chain(from: Int64 = 1, count: Int, previous: String = genesis, tag: String = "") -> [StoredAuditRecord]
    {
        var records: [StoredAuditRecord] = []
        var prev = previous
        for offset in 0..<count {
            let sequence = from + Int64(offset)
            let hash = String(repeating: String(sequence % 10), count: 32) + String(repeating: "ab", count: 16)
            let tagged = tag.isEmpty ? hash : String((tag + hash).prefix(64))
            records.append(
                StoredAuditRecord(
                    sequence: sequence, timeMicroseconds: 1_767_225_600_000_000 + sequence, type: "auth.failure",
                    outcome: "failure", requestID: "req-\(sequence)", clientAddress: "127.0.0.1", subject: nil,
                    route: "/api/v1/events", reason: "it's \"quoted\"; DROP TABLE audit_records; --",
                    tokenFingerprint: nil, prevHash: prev, hash: tagged, line: "{\"sequence\":\(sequence)}"))
            prev = tagged
        }
        return records
    }

    @Test("a batch is stored in order and reads back field for field", arguments: StoreKind.allCases)
    func roundTrip(kind: StoreKind) throws {
        let fixture = try StoreFixture(kind)
        let records = Self.chain(count: 40)
        let result = try fixture.store.appendAuditRecords(AuditBatch(source: "gw-a", records: records))
        #expect(result == AuditAppendResult(inserted: 40, duplicates: 0, lastSequence: 40))
        #expect(try fixture.store.auditHead(source: "gw-a") == AuditHead(sequence: 40, hash: records[39].hash))
        #expect(try fixture.store.auditRecords(source: "gw-a", afterSequence: 0, limit: 100) == records)
        #expect(try fixture.store.auditRecords(source: "gw-a", afterSequence: 35, limit: 3) == Array(records[35..<38]))
        #expect(try fixture.store.auditHead(source: "gw-b") == nil)
    }

    @Test(
        "a replayed batch inserts nothing twice; an overlapping one inserts only its new records",
        arguments: StoreKind.allCases)
    func idempotentReplay(kind: StoreKind) throws {
        let fixture = try StoreFixture(kind)
        let all = Self.chain(count: 8)
        _ = try fixture.store.appendAuditRecords(AuditBatch(source: "gw", records: Array(all[0..<5])))
        let replay = try fixture.store.appendAuditRecords(AuditBatch(source: "gw", records: Array(all[0..<5])))
        #expect(replay == AuditAppendResult(inserted: 0, duplicates: 5, lastSequence: 5))
        let overlap = try fixture.store.appendAuditRecords(AuditBatch(source: "gw", records: Array(all[2..<8])))
        #expect(overlap == AuditAppendResult(inserted: 3, duplicates: 3, lastSequence: 8))
        #expect(try fixture.store.auditRecords(source: "gw", afterSequence: 0, limit: 100) == all)
    }

    @Test("a batch that starts past the head is refused as a gap, and nothing is stored", arguments: StoreKind.allCases)
    func gapRefused(kind: StoreKind) throws {
        let fixture = try StoreFixture(kind)
        let all = Self.chain(count: 12)
        _ = try fixture.store.appendAuditRecords(AuditBatch(source: "gw", records: Array(all[0..<5])))
        #expect {
            try fixture.store.appendAuditRecords(AuditBatch(source: "gw", records: Array(all[6..<12])))
        } throws: { ($0 as? StoreError)?.isAuditGap == true }
        // A source with nothing stored must start at record 1.
        #expect {
            try fixture.store.appendAuditRecords(AuditBatch(source: "other", records: Array(all[1..<3])))
        } throws: { ($0 as? StoreError)?.isAuditGap == true }
        #expect(try fixture.store.auditHead(source: "gw")?.sequence == 5)
        #expect(try fixture.store.auditHead(source: "other") == nil)
    }

    @Test(
        "records that contradict the stored chain are refused whole: other hash, broken link, bad genesis",
        arguments: StoreKind.allCases)
    func conflictsRefused(kind: StoreKind) throws {
        let fixture = try StoreFixture(kind)
        let all = Self.chain(count: 6)
        _ = try fixture.store.appendAuditRecords(AuditBatch(source: "gw", records: Array(all[0..<4])))
        // Sequence 4 again with another hash (and 5 after it): the stored record 4 stands.
        var forged = Array(all[3..<6])
        forged[0].hash = String(repeating: "f", count: 64)
        forged[1].prevHash = forged[0].hash
        // Record 5 that does not hang off the stored record 4.
        var unlinked = Array(all[4..<6])
        unlinked[0].prevHash = String(repeating: "e", count: 64)
        // Within a batch, a record that skips a sequence.
        let skipping = [all[4], Self.chain(from: 7, count: 1, previous: all[4].hash)[0]]
        let badGenesis = Self.chain(count: 2, previous: String(repeating: "1", count: 64))
        for (source, batch) in [("gw", forged), ("gw", unlinked), ("gw", skipping), ("fresh", badGenesis)] {
            #expect {
                try fixture.store.appendAuditRecords(AuditBatch(source: source, records: batch))
            } throws: { ($0 as? StoreError)?.isAuditConflict == true }
        }
        #expect(try fixture.store.auditRecords(source: "gw", afterSequence: 0, limit: 100) == Array(all[0..<4]))
        #expect(try fixture.store.auditHead(source: "fresh") == nil)
    }

    @Test("each source keeps a chain of its own", arguments: StoreKind.allCases)
    func sourcesIndependent(kind: StoreKind) throws {
        let fixture = try StoreFixture(kind)
        let a = Self.chain(count: 3, tag: "a")
        let b = Self.chain(count: 5, tag: "b")
        _ = try fixture.store.appendAuditRecords(AuditBatch(source: "gw-a", records: a))
        _ = try fixture.store.appendAuditRecords(AuditBatch(source: "gw-b", records: b))
        #expect(try fixture.store.auditHead(source: "gw-a") == AuditHead(sequence: 3, hash: a[2].hash))
        #expect(try fixture.store.auditHead(source: "gw-b") == AuditHead(sequence: 5, hash: b[4].hash))
    }

    @Test("stored audit records cannot be updated or deleted, even by the table's owner", arguments: StoreKind.allCases)
    func appendOnly(kind: StoreKind) throws {
        let fixture = try StoreFixture(kind)
        let records = Self.chain(count: 3)
        _ = try fixture.store.appendAuditRecords(AuditBatch(source: "gw", records: records))
        switch kind {
        case .sqlite:
            let store = try #require(fixture.store as? SQLiteEventStore)
            for sql in ["UPDATE audit_records SET reason = 'x'", "DELETE FROM audit_records WHERE sequence = 2"] {
                #expect(throws: StoreError.self) { try store.writer.withLock { try $0.execute(sql) } }
            }
        case .postgres:
            let database = try #require(fixture.database)
            let statements = [
                "UPDATE mcp_documents.audit_records SET reason = 'x'",
                "DELETE FROM mcp_documents.audit_records WHERE sequence = 2",
                "TRUNCATE mcp_documents.audit_records",
            ]
            for sql in statements {
                // The connecting role owns the table and is a superuser: only the trigger stands in the way.
                let output = try PostgresServer.debian.psql(sql, database: database)
                #expect(output.status != 0)
                #expect(output.stderr.contains("audit records are append-only"))
            }
        }
        #expect(try fixture.store.auditRecords(source: "gw", afterSequence: 0, limit: 10) == records)
    }
}
