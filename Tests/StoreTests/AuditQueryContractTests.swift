import Foundation
import Testing

@testable import Store

/// `searchAuditRecords`: filters and cursor pagination, on SQLite and PostgreSQL alike.
@Suite("Audit record search (SQLite and PostgreSQL)")
struct AuditQueryContractTests {
    static let base: Int64 = 1_767_225_600_000_000

    /// A chain of `count` records for `source`: types and outcomes alternate, subjects cycle through three
    /// names, and record n was made `n` seconds after `base`.
    static func chain(_ source: String, count: Int) -> AuditBatch {
        var records: [StoredAuditRecord] = []
        var prev = String(repeating: "0", count: 64)
        for n in 1...count {
            let hash = String((source + String(repeating: "\(n % 10)", count: 64)).suffix(64))
            let denied = n % 2 == 0
            records.append(
                StoredAuditRecord(
                    sequence: Int64(n), timeMicroseconds: base + Int64(n) * 1_000_000,
                    type: denied ? "authz.denied" : "auth.success", outcome: denied ? "denied" : "success",
                    requestID: "req-\(n)", clientAddress: "127.0.0.1", subject: ["alice", "bob", "carol"][n % 3],
                    route: "/api/v1/events", reason: nil, tokenFingerprint: nil, prevHash: prev, hash: hash,
                    line: "{\"sequence\":\(n),\"source\":\"\(source)\"}"))
            prev = hash
        }
        return AuditBatch(source: source, records: records)
    }

    private func fixture(_ kind: StoreKind) throws -> StoreFixture {
        let fixture = try StoreFixture(kind)
        _ = try fixture.store.appendAuditRecords(Self.chain("gw-b", count: 30))
        _ = try fixture.store.appendAuditRecords(Self.chain("gw-a", count: 20))
        return fixture
    }

    private func keys(_ page: AuditRecordPage) -> [String] {
        page.records.map { "\($0.source)#\($0.record.sequence)" }
    }

    @Test("every filter narrows the result, and all of them together hold at once", arguments: StoreKind.allCases)
    func filters(kind: StoreKind) throws {
        // The fixture drops its database when it goes: keep it for the whole test.
        let fixture = try fixture(kind)
        let store = fixture.store
        var query = AuditQuery(limit: 1000)
        #expect(try store.searchAuditRecords(query).records.count == 50)

        query.source = "gw-a"
        #expect(try keys(store.searchAuditRecords(query)) == (1...20).map { "gw-a#\($0)" })
        query.type = "authz.denied"
        #expect(try keys(store.searchAuditRecords(query)) == stride(from: 2, through: 20, by: 2).map { "gw-a#\($0)" })
        query.subject = "alice"
        // Even numbers that are multiples of 3: 6, 12, 18.
        #expect(try keys(store.searchAuditRecords(query)) == ["gw-a#6", "gw-a#12", "gw-a#18"])
        query.sinceMicroseconds = Self.base + 12_000_000
        #expect(try keys(store.searchAuditRecords(query)) == ["gw-a#12", "gw-a#18"])
        query.untilMicroseconds = Self.base + 18_000_000
        #expect(try keys(store.searchAuditRecords(query)) == ["gw-a#12"], "until is exclusive")

        var outcome = AuditQuery(limit: 1000)
        outcome.outcome = "success"
        let successes = try store.searchAuditRecords(outcome).records
        #expect(successes.count == 25 && successes.allSatisfy { $0.record.outcome == "success" })
        outcome.outcome = "failure"
        #expect(try store.searchAuditRecords(outcome).records.isEmpty)
        // A value that would break SQL text built by hand is only ever a bound value.
        var hostile = AuditQuery(limit: 10)
        hostile.subject = "x' OR '1'='1"
        #expect(try store.searchAuditRecords(hostile).records.isEmpty)
    }

    @Test(
        "pages follow the cursor across sources, in (source, sequence) order, each record once",
        arguments: StoreKind.allCases)
    func pagination(kind: StoreKind) throws {
        // The fixture drops its database when it goes: keep it for the whole test.
        let fixture = try fixture(kind)
        let store = fixture.store
        var query = AuditQuery(limit: 7)
        var seen: [String] = []
        var pages = 0
        while true {
            let page = try store.searchAuditRecords(query)
            pages += 1
            #expect(page.records.count <= 7)
            seen += keys(page)
            guard let next = page.next else { break }
            #expect(
                next == AuditCursor(source: page.records.last!.source, sequence: page.records.last!.record.sequence))
            query.after = next
        }
        #expect(pages == 8)
        #expect(seen == (1...20).map { "gw-a#\($0)" } + (1...30).map { "gw-b#\($0)" })
        // A page that ends exactly at the last record says so: no empty page after it.
        var exact = AuditQuery(limit: 20)
        exact.source = "gw-a"
        #expect(try store.searchAuditRecords(exact).next == nil)
        // The stored line comes back byte for byte.
        #expect(try store.searchAuditRecords(exact).records.first?.record.line == #"{"sequence":1,"source":"gw-a"}"#)
    }
}
