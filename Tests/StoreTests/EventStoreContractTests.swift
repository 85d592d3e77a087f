import Foundation
import PortalCore
import Store
import Synchronization
import Testing

/// The `EventStore` contract, run against SQLite and PostgreSQL alike.
@Suite("EventStore contract (SQLite and PostgreSQL)")
struct EventStoreContractTests {
    private func sample(_ aggregate: String = "story-1", type: String = "story.created", n: Int = 0) -> NewEvent {
        NewEvent(
            eventType: type, aggregateType: "story", aggregateID: aggregate,
            payloadJSON: "{\"n\":\(n)}", metadataJSON: "{\"by\":\"test\"}")
    }

    @Test("an appended event reads back unchanged by id", arguments: StoreKind.allCases)
    func roundTrip(kind: StoreKind) throws {
        let clock = ManualClock(unixSeconds: 1_767_225_600)
        let fixture = try StoreFixture(kind, clock: clock)
        let store = fixture.store
        let stored = try store.append(sample(n: 7))
        #expect(EventID.isWellFormed(stored.id))
        #expect(Array(stored.id.utf8)[14] == UInt8(ascii: "4"))
        #expect(stored.createdAtMicroseconds == 1_767_225_600_000_000)
        #expect(stored.version == 1)
        #expect(try store.event(id: stored.id) == stored)
        #expect(try store.event(id: stored.id.uppercased()) == stored)
        #expect(try store.event(id: EventID.make()) == nil)
        #expect(try store.event(id: "not-a-uuid") == nil)
    }

    @Test("microsecond times survive the round trip", arguments: StoreKind.allCases)
    func microsecondTimes(kind: StoreKind) throws {
        let clock = ManualClock(unixSeconds: 1_767_225_600)
        clock.advance(nanoseconds: 123_456_000)
        let fixture = try StoreFixture(kind, clock: clock)
        let stored = try fixture.store.append(sample())
        #expect(stored.createdAtMicroseconds == 1_767_225_600_123_456)
        #expect(try fixture.store.event(id: stored.id)?.createdAtMicroseconds == 1_767_225_600_123_456)
    }

    @Test("versions count up per aggregate, independently of other aggregates", arguments: StoreKind.allCases)
    func versionsPerAggregate(kind: StoreKind) throws {
        let fixture = try StoreFixture(kind)
        let store = fixture.store
        let a1 = try store.append(sample("a"))
        let b1 = try store.append(sample("b"))
        let a2 = try store.append(sample("a"))
        let a3 = try store.append(sample("a"))
        let b2 = try store.append(sample("b"))
        #expect([a1.version, a2.version, a3.version] == [1, 2, 3])
        #expect([b1.version, b2.version] == [1, 2])
        #expect(a1.sequence < b1.sequence && b1.sequence < a2.sequence && a3.sequence < b2.sequence)
    }

    @Test(
        "paging with the after cursor visits every row exactly once, in order",
        arguments: StoreKind.allCases, [1, 7, 25, 100])
    func paginationVisitsAll(kind: StoreKind, pageSize: Int) throws {
        let fixture = try StoreFixture(kind)
        let store = fixture.store
        var appended: [String] = []
        for n in 0..<25 { appended.append(try store.append(sample("agg-\(n % 4)", n: n)).id) }
        var seen: [String] = []
        var after: Int64?
        var pages = 0
        repeat {
            let page = try store.list(EventQuery(afterSequence: after, limit: pageSize))
            #expect(page.events.count <= pageSize)
            seen += page.events.map(\.id)
            after = page.nextAfterSequence
            pages += 1
        } while after != nil && pages < 100
        #expect(seen == appended)
        #expect(pages == (25 + pageSize - 1) / pageSize)
    }

    @Test("filters by aggregate id, event type, or both", arguments: StoreKind.allCases)
    func filters(kind: StoreKind) throws {
        let fixture = try StoreFixture(kind)
        let store = fixture.store
        for n in 0..<12 {
            _ = try store.append(sample("agg-\(n % 3)", type: n % 2 == 0 ? "story.created" : "story.edited", n: n))
        }
        let byAggregate = try store.list(EventQuery(aggregateID: "agg-1", limit: 100)).events
        #expect(byAggregate.count == 4 && byAggregate.allSatisfy { $0.aggregateID == "agg-1" })
        #expect(byAggregate.map(\.version) == [1, 2, 3, 4])
        let byType = try store.list(EventQuery(eventType: "story.edited", limit: 100)).events
        #expect(byType.count == 6 && byType.allSatisfy { $0.eventType == "story.edited" })
        let both = try store.list(EventQuery(aggregateID: "agg-0", eventType: "story.created", limit: 100)).events
        #expect(both.map(\.payloadJSON) == ["{\"n\":0}", "{\"n\":6}"])
        #expect(try store.list(EventQuery(aggregateID: "' OR 1=1 --", limit: 100)).events.isEmpty)
    }

    @Test("hostile text is stored and returned byte for byte, never interpreted as SQL", arguments: StoreKind.allCases)
    func hostileValues(kind: StoreKind) throws {
        let fixture = try StoreFixture(kind)
        let store = fixture.store
        let hostile = [
            "'); DROP TABLE events; --", "$1", "\\x00", "", "\"quoted\"", "é🙂",
            String(repeating: "x", count: 10_000),
        ]
        for value in hostile {
            let event = NewEvent(
                eventType: "t", aggregateType: value, aggregateID: value, payloadJSON: "{\"v\":\"\\u0000\"}",
                metadataJSON: "{}")
            let stored = try store.append(event)
            #expect(try store.event(id: stored.id) == stored)
        }
        #expect(try store.list(EventQuery(limit: 100)).events.count == hostile.count)
    }

    @Test(
        "a NUL byte in a text value is refused, never cut short, and nothing is written", arguments: StoreKind.allCases)
    func nulRefused(kind: StoreKind) throws {
        let fixture = try StoreFixture(kind)
        let event = NewEvent(
            eventType: "t", aggregateType: "story", aggregateID: "a\u{0}b", payloadJSON: "{}", metadataJSON: "{}")
        #expect {
            try fixture.store.append(event)
        } throws: { error in
            (error as? StoreError)?.metricLabel == "invalid_text"
        }
        #expect(try fixture.store.list(EventQuery(limit: 10)).events.isEmpty)
        #expect(try fixture.store.append(sample("a")).version == 1)
    }

    @Test("reopening keeps the data and does not run migrations again", arguments: StoreKind.allCases)
    func reopen(kind: StoreKind) throws {
        let clock = ManualClock()
        let fixture = try StoreFixture(kind, clock: clock)
        let ids = [try fixture.store.append(sample("a")).id, try fixture.store.append(sample("a")).id]
        let firstMigrations = try fixture.appliedMigrations(fixture.store)
        clock.advance(seconds: 60)
        let reopened = try fixture.reopen()
        #expect(try fixture.appliedMigrations(reopened) == firstMigrations)
        // PostgreSQL keeps the credential tables in the same schema (migration 3), the subject keys in
        // migration 4 and the credential purge in 5; SQLite keeps credentials in their own file, and the subject
        // keys in migration 3.
        #expect(firstMigrations.map(\.version) == (kind == .postgres ? [1, 2, 3, 4, 5] : [1, 2, 3]))
        #expect(try reopened.list(EventQuery(limit: 10)).events.map(\.id) == ids)
        #expect(try reopened.append(sample("a")).version == 3)
    }

    @Test(
        "concurrent appends from many threads all land with distinct consecutive versions",
        arguments: StoreKind.allCases)
    func concurrentAppends(kind: StoreKind) throws {
        let fixture = try StoreFixture(kind)
        let store = fixture.store
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for n in 0..<25 {
                do {
                    _ = try store.append(sample(n % 2 == 0 ? "shared" : "own-\(worker)", n: n))
                } catch {
                    failures.add(1, ordering: .relaxed)
                }
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
        let all = try store.list(EventQuery(limit: 1000)).events
        #expect(all.count == 200)
        #expect(Set(all.map(\.id)).count == 200)
        // Even n of 0..<25 is 13 appends per worker to the shared aggregate.
        let shared = all.filter { $0.aggregateID == "shared" }.map(\.version)
        #expect(shared == Array(1...104))
        // Sequences in listing order strictly increase: commit order matches sequence order.
        #expect(zip(all, all.dropFirst()).allSatisfy { $0.sequence < $1.sequence })
        try store.ping()
    }
}
