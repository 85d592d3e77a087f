import Audit
import Config
import DataLayer
import Foundation
import PortalCore
import PostgresTestSupport
import Store
import Telemetry
import Testing

/// Scheduled retention purges over SQLite and PostgreSQL, audited through a real audit log.
@Suite("Retention purges")
struct RetentionPurgerTests {
    enum Kind: String, CaseIterable {
        case sqlite, postgres
    }

    static let day: Int64 = 86_400
    static let now: Int64 = 1_780_000_000

    /// A store of one kind, with events written 400, 40 and 1 days before `now` of types a, b and c.
    final class Fixture {
        let store: any EventStore & EventPurging
        let directory = NSTemporaryDirectory() + "retention-" + UUID().uuidString
        let audit: AuditLog
        let database: String?
        var old: [StoredEvent] = []
        var month: [StoredEvent] = []
        var young: [StoredEvent] = []

        init(_ kind: Kind) throws {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            audit = try AuditLog(path: directory + "/audit.log", commitIntervalMilliseconds: 5)
            let clock = ManualClock(unixSeconds: RetentionPurgerTests.now - 400 * RetentionPurgerTests.day)
            switch kind {
            case .sqlite:
                database = nil
                store = try SQLiteEventStore(directory: directory + "/data", clock: clock)
            case .postgres:
                let database = try PostgresServer.debian.createDatabase()
                self.database = database
                let pool = PostgresConnectionPool(
                    options: try PostgresServer.debian.options(database: database), size: 2)
                store = try PostgresEventStore(pool: pool, clock: clock)
            }
            old = try write()
            clock.advance(seconds: 360 * Double(RetentionPurgerTests.day))
            month = try write()
            clock.advance(seconds: 39 * Double(RetentionPurgerTests.day))
            young = try write()
        }

        private func write() throws -> [StoredEvent] {
            try ["a", "b", "c"].map { type in
                try store.append(
                    NewEvent(
                        eventType: type, aggregateType: "customer", aggregateID: "alice@example.com",
                        payloadJSON: #"{"email":"alice@example.com"}"#, metadataJSON: "{}"))
            }
        }

        func purger(_ events: [String: Int64], star: Int64? = nil, interval: Double = 3600) -> RetentionPurger {
            let policy = RetentionPolicy(
                maxAgeSecondsByType: events.mapValues { $0 * RetentionPurgerTests.day },
                defaultMaxAgeSeconds: star.map { $0 * RetentionPurgerTests.day }, purgeIntervalSeconds: interval)
            return RetentionPurger(
                policy: policy, store: store, audit: audit, clock: ManualClock(unixSeconds: RetentionPurgerTests.now),
                logger: Logger(level: .error, sink: MemoryLogSink()))
        }

        func remaining() throws -> Set<String> {
            Set(try store.list(EventQuery(limit: 100)).events.map(\.id))
        }

        func purgeRecords() throws -> [[String: Any]] {
            _ = audit.flush()
            let text = (try? String(contentsOfFile: directory + "/audit.log", encoding: .utf8)) ?? ""
            return try text.split(separator: "\n").compactMap { line in
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            }
            .filter { $0["type"] as? String == "data.purged" }
        }

        deinit {
            audit.close()
            (store as? PostgresEventStore)?.pool.close()
            if let database { PostgresServer.debian.dropDatabase(database) }
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    @Test(
        "a type's old events go, younger ones and types without a rule stay; each rule is audited",
        arguments: Kind.allCases)
    func namedTypes(kind: Kind) throws {
        let fixture = try Fixture(kind)
        let outcomes = fixture.purger(["a": 30, "c": 500]).runOnce()
        #expect(outcomes.map(\.eventType) == ["a", "c"])
        #expect(outcomes.map(\.deleted) == [2, 0])
        #expect(outcomes[0].cutoffMicroseconds == (Self.now - 30 * Self.day) * 1_000_000)
        let kept = Set((fixture.old + fixture.month + fixture.young).map(\.id)).subtracting(
            [fixture.old[0].id, fixture.month[0].id])
        #expect(try fixture.remaining() == kept)

        let records = try fixture.purgeRecords()
        #expect(records.count == 2)
        #expect(records.first?["outcome"] as? String == "success")
        #expect(records.first?["reason"] as? String == "event_type:a;cutoff:\(Self.now - 30 * Self.day);deleted:2")
        #expect(records.last?["reason"] as? String == "event_type:c;cutoff:\(Self.now - 500 * Self.day);deleted:0")
        // Nothing of the events themselves reaches the audit trail.
        let text = try String(contentsOfFile: fixture.directory + "/audit.log", encoding: .utf8)
        #expect(!text.contains("alice") && !text.contains(fixture.old[0].id))
    }

    @Test("\"*\" takes every type not named, by its own age; named types keep theirs", arguments: Kind.allCases)
    func everyOtherType(kind: Kind) throws {
        let fixture = try Fixture(kind)
        let outcomes = fixture.purger(["a": 500], star: 30).runOnce()
        #expect(outcomes.map(\.eventType) == ["a", "*"])
        #expect(outcomes.map(\.deleted) == [0, 4])
        let kept = Set([fixture.old[0].id, fixture.month[0].id] + fixture.young.map(\.id))
        #expect(try fixture.remaining() == kept)
        #expect(
            try fixture.purgeRecords().last?["reason"] as? String
                == "event_type:*;cutoff:\(Self.now - 30 * Self.day);deleted:4")
    }

    @Test("the first run comes shortly after start, then one per interval", arguments: Kind.allCases)
    func scheduled(kind: Kind) throws {
        let fixture = try Fixture(kind)
        let purger = fixture.purger([:], star: 30, interval: 0.2)
        defer { purger.stop() }
        purger.start(firstDelaySeconds: 0.05)
        let deadline = Date().addingTimeInterval(5)
        while try fixture.purgeRecords().count < 3 && Date() < deadline { usleep(50_000) }
        let records = try fixture.purgeRecords()
        #expect(records.count >= 3, "runs: \(records.count)")
        #expect(records.first?["reason"] as? String == "event_type:*;cutoff:\(Self.now - 30 * Self.day);deleted:6")
        #expect(records.dropFirst().allSatisfy { ($0["reason"] as? String)?.hasSuffix(";deleted:0") == true })
        #expect(try fixture.remaining() == Set(fixture.young.map(\.id)))
    }
}
