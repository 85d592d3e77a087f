import Foundation
import PortalCore
import PostgresTestSupport
import Store

/// The stores that one contract suite runs against.
enum StoreKind: String, CaseIterable, Sendable {
    case sqlite
    case postgres
}

/// A fresh, empty store of one kind: SQLite in a temporary directory, or PostgreSQL in a new database
/// of the Debian cluster (dropped when the fixture goes away).
final class StoreFixture {
    let kind: StoreKind
    let store: any EventStore & AuditRecordStore
    private let clock: any PortalClock
    private let directory: String?
    /// The PostgreSQL database, when the kind is `postgres`.
    let database: String?

    init(
        _ kind: StoreKind, clock: any PortalClock = SystemClock(), poolSize: Int = 4,
        encryption: EventEncryption? = nil
    ) throws {
        self.kind = kind
        self.clock = clock
        switch kind {
        case .sqlite:
            let directory = makeTemporaryDirectory()
            self.directory = directory
            database = nil
            store = try SQLiteEventStore(directory: directory, clock: clock, encryption: encryption)
        case .postgres:
            let database = try PostgresServer.debian.createDatabase()
            self.database = database
            directory = nil
            let pool = PostgresConnectionPool(
                options: try PostgresServer.debian.options(database: database), size: poolSize)
            store = try PostgresEventStore(pool: pool, clock: clock, encryption: encryption)
        }
    }

    /// A second store over the same data, as a restarted process would open it.
    func reopen(encryption: EventEncryption? = nil) throws -> any EventStore & AuditRecordStore {
        switch kind {
        case .sqlite:
            return try SQLiteEventStore(directory: directory ?? "", clock: clock, encryption: encryption)
        case .postgres:
            let options = try PostgresServer.debian.options(database: database ?? "")
            return try PostgresEventStore(
                pool: PostgresConnectionPool(options: options, size: 1), clock: clock, encryption: encryption)
        }
    }

    /// The data directory, when the kind is `sqlite`.
    var sqliteDirectory: String? { directory }

    /// The migrations the store's database has recorded.
    func appliedMigrations(_ store: any EventStore) throws -> [AppliedMigration] {
        if let sqlite = store as? SQLiteEventStore { return try sqlite.appliedMigrations() }
        if let postgres = store as? PostgresEventStore { return try postgres.appliedMigrations() }
        return []
    }

    deinit {
        if let database {
            (store as? PostgresEventStore)?.pool.close()
            PostgresServer.debian.dropDatabase(database)
        }
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
    }
}
