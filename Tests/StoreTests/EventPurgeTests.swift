import Foundation
import PortalCore
import Store
import Testing

/// Retention purges, on SQLite and PostgreSQL alike.
@Suite("Event purges (SQLite and PostgreSQL)")
struct EventPurgeTests {
    static let day: Int64 = 86_400

    /// Events of `types` written `daysAgo` days before `now`, one per type; the clock only moves forward, so
    /// callers write the oldest first.
    private func write(
        _ fixture: StoreFixture, clock: ManualClock, types: [String], daysAgo: Int64, now: Int64
    ) throws -> [StoredEvent] {
        let target = (now - daysAgo * Self.day) * 1_000_000_000
        let current = clock.unixNanoseconds()
        precondition(target >= current, "write older events first")
        clock.advance(nanoseconds: UInt64(target - current))
        return try types.map { type in
            try fixture.store.append(
                NewEvent(
                    eventType: type, aggregateType: "order", aggregateID: "o-\(daysAgo)-\(type)",
                    payloadJSON: "{}", metadataJSON: "{}"))
        }
    }

    private func purger(_ fixture: StoreFixture) throws -> any EventPurging {
        try #require(fixture.store as? any EventPurging)
    }

    @Test(
        "one type's events older than the cutoff go; younger ones and other types stay", arguments: StoreKind.allCases)
    func oneType(kind: StoreKind) throws {
        let now: Int64 = 1_780_000_000
        let clock = ManualClock(unixSeconds: now - 1_000 * Self.day)
        let fixture = try StoreFixture(kind, clock: clock)
        let old = try write(fixture, clock: clock, types: ["order.created", "order.paid"], daysAgo: 40, now: now)
        // An event exactly at the cutoff is not older than it.
        let atCutoff = try write(fixture, clock: clock, types: ["order.created"], daysAgo: 30, now: now)
        let young = try write(fixture, clock: clock, types: ["order.created", "order.paid"], daysAgo: 20, now: now)

        let cutoff = (now - 30 * Self.day) * 1_000_000
        #expect(try purger(fixture).purgeEvents(.only("order.created"), createdBefore: cutoff) == 1)
        #expect(try fixture.store.event(id: old[0].id) == nil)
        #expect(try fixture.store.event(id: old[1].id) == old[1])
        #expect(try fixture.store.event(id: young[0].id) == young[0])
        #expect(try purger(fixture).purgeEvents(.only("order.created"), createdBefore: cutoff) == 0)
        #expect(try fixture.store.event(id: atCutoff[0].id) != nil)
    }

    @Test("the \"*\" rule takes every type but the excepted ones, in batches", arguments: StoreKind.allCases)
    func allExcept(kind: StoreKind) throws {
        let now: Int64 = 1_780_000_000
        let clock = ManualClock(unixSeconds: now - 1_000 * Self.day)
        let fixture = try StoreFixture(kind, clock: clock)
        let types = ["a", "b", "c", "it's \"quoted\""]
        let old = try write(fixture, clock: clock, types: types, daysAgo: 400, now: now)
        let young = try write(fixture, clock: clock, types: types, daysAgo: 1, now: now)
        let cutoff = (now - 365 * Self.day) * 1_000_000

        #expect(try purger(fixture).purgeEvents(.allExcept(["a", "it's \"quoted\""]), createdBefore: cutoff) == 2)
        let left = try fixture.store.list(EventQuery(limit: 100)).events.map(\.id)
        #expect(Set(left) == Set([old[0].id, old[3].id] + young.map(\.id)))
        #expect(try purger(fixture).purgeEvents(.allExcept([]), createdBefore: cutoff) == 2)
        #expect(Set(try fixture.store.list(EventQuery(limit: 100)).events.map(\.id)) == Set(young.map(\.id)))
    }

    @Test("a purge larger than one batch deletes everything it should", arguments: StoreKind.allCases)
    func manyBatches(kind: StoreKind) throws {
        let now: Int64 = 1_780_000_000
        let clock = ManualClock(unixSeconds: now - 10 * Self.day)
        let fixture = try StoreFixture(kind, clock: clock)
        for index in 0..<5_003 {
            _ = try fixture.store.append(
                NewEvent(
                    eventType: "bulk", aggregateType: "b", aggregateID: "b\(index % 50)", payloadJSON: "{}",
                    metadataJSON: "{}"))
        }
        #expect(try purger(fixture).purgeEvents(.only("bulk"), createdBefore: now * 1_000_000) == 5_003)
        #expect(try fixture.store.list(EventQuery(limit: 10)).events.isEmpty)
    }
}
