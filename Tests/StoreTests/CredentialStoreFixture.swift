import Foundation
import PostgresTestSupport
import Store

/// A fresh, empty credential store of one kind: SQLite in a temporary directory, or PostgreSQL in a new
/// database of the Debian cluster (dropped when the fixture goes away).
final class CredentialStoreFixture {
    let kind: StoreKind
    let store: any CredentialStore
    private let directory: String?
    /// The PostgreSQL database, when the kind is `postgres`.
    let database: String?
    private var pools: [PostgresConnectionPool] = []

    init(_ kind: StoreKind) throws {
        self.kind = kind
        switch kind {
        case .sqlite:
            let directory = makeTemporaryDirectory()
            self.directory = directory
            database = nil
            store = try SQLiteCredentialStore(directory: directory)
        case .postgres:
            let database = try PostgresServer.debian.createDatabase()
            self.database = database
            directory = nil
            let pool = PostgresConnectionPool(options: try PostgresServer.debian.options(database: database), size: 4)
            pools.append(pool)
            store = try PostgresCredentialStore(pool: pool)
        }
    }

    /// A second store over the same data, with connections of its own: a restarted process, or another
    /// gateway sharing the database.
    func reopen() throws -> any CredentialStore {
        switch kind {
        case .sqlite:
            return try SQLiteCredentialStore(directory: directory ?? "")
        case .postgres:
            let options = try PostgresServer.debian.options(database: database ?? "")
            let pool = PostgresConnectionPool(options: options, size: 4)
            pools.append(pool)
            return try PostgresCredentialStore(pool: pool)
        }
    }

    deinit {
        if let database {
            pools.forEach { $0.close() }
            PostgresServer.debian.dropDatabase(database)
        }
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
    }
}
