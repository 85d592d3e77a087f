import Foundation
import PostgresTestSupport
import Testing

@testable import Store

/// `portal master-key rotate` run as an operator would: the built binary, on SQLite beside a running portal, and
/// on PostgreSQL.
@Suite("portal master-key rotate")
struct MasterKeyCommandTests {
    static let oldKey = "rotate-old-master-key-" + UUID().uuidString
    static let newKey = "rotate-new-master-key-" + UUID().uuidString
    static let thirdKey = "rotate-third-master-key-" + UUID().uuidString

    static func encryption(_ secret: String, previous: String? = nil) throws -> EventEncryption {
        EventEncryption(
            masterKey: try #require(MasterKey(secret: Array(secret.utf8))),
            previous: try previous.map { try #require(MasterKey(secret: Array($0.utf8))) })
    }

    /// Two events for each of `count` subjects.
    static func write(_ count: Int, to store: any EventStore) throws -> [StoredEvent] {
        try (0..<count).flatMap { index in
            try (0..<2).map { round in
                try store.append(EraseCommandTests.person("user-\(index)", "User \(index) round \(round)"))
            }
        }
    }

    /// Checks that no output line repeats any of the secrets.
    static func expectNoSecret(_ outcome: PortalProcess.Outcome) {
        for secret in [oldKey, newKey, thirdKey] {
            #expect(!outcome.stdout.contains(secret) && !outcome.stderr.contains(secret))
        }
    }

    @Test("on SQLite beside a running portal holding both keys: batches, a rerun moves 0, then the new key alone")
    func sqlite() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        let events = try Self.write(
            5, to: try SQLiteEventStore(directory: data.path, encryption: Self.encryption(Self.oldKey)))
        let previousFile = dir.appendingPathComponent("previous_master_key")
        try Data((Self.oldKey + "\n").utf8).write(to: previousFile)
        var env = PortalProcess.baseEnvironment(dataDirectory: data)
        env["PORTAL_MASTER_KEY"] = Self.newKey

        // Without the previous key there is nothing to rotate from, and the new key alone is refused by serve.
        let missing = try PortalProcess.run(["master-key", "rotate"], environment: env, in: dir)
        #expect(missing.status == 2 && missing.stderrLines.count == 1, "\(missing.stderr)")
        #expect(missing.stderr.contains("PORTAL_MASTER_KEY_PREVIOUS"))
        let refused = try PortalProcess.run(["serve"], environment: env, in: dir)
        #expect(refused.status == 2 && refused.stderr.contains("master-key rotate"), "\(refused.stderr)")
        // A previous key that did not write the store is a bad setting too, named as such.
        env["PORTAL_MASTER_KEY_PREVIOUS"] = Self.thirdKey
        let foreign = try PortalProcess.run(["serve"], environment: env, in: dir)
        #expect(foreign.status == 2 && foreign.stderrLines.count == 1, "\(foreign.stderr)")
        #expect(foreign.stderr.contains("PORTAL_MASTER_KEY_PREVIOUS to the key they were written with"))
        Self.expectNoSecret(foreign)
        env["PORTAL_MASTER_KEY_PREVIOUS"] = nil

        // With both keys the portal serves, and the rotation runs beside it: 5 data keys + the subject-hash key.
        env["PORTAL_MASTER_KEY_PREVIOUS_FILE"] = previousFile.path
        let portal = try RunningPortal(
            environment: env, directory: dir, expectedListeners: ["gateway", "admin", "data layer"])
        let rotated = try PortalProcess.run(["master-key", "rotate", "--batch-size", "4"], environment: env, in: dir)
        #expect(rotated.status == 0, "\(rotated.stderr)")
        #expect(rotated.stdout.hasPrefix("ok: re-wrapped 6 key(s) in 2 batch(es)"), "\(rotated.stdout)")
        #expect(rotated.stdout.contains("6 live key(s) under the current key, 0 left under the previous one"))
        let again = try PortalProcess.run(["master-key", "rotate"], environment: env, in: dir)
        #expect(again.status == 0 && again.stdout.hasPrefix("ok: re-wrapped 0 key(s) in 0 batch(es)"), "\(again)")
        Self.expectNoSecret(rotated)
        #expect(portal.terminate() == 0)

        // The new key alone: serve starts, erase finds the subject by its unchanged hash, the rest reads.
        env["PORTAL_MASTER_KEY_PREVIOUS_FILE"] = nil
        let alone = try RunningPortal(
            environment: env, directory: dir, expectedListeners: ["gateway", "admin", "data layer"])
        #expect(alone.terminate() == 0)
        let erased = try PortalProcess.run(["erase", "--subject", "user-2"], environment: env, in: dir)
        #expect(erased.stdout.hasPrefix("ok: erased subject user-2: destroyed 1 data key(s), overwrote 2 event(s)"))
        let store = try SQLiteEventStore(directory: data.path, encryption: Self.encryption(Self.newKey))
        #expect(try store.event(id: events[4].id)?.erased == true)
        #expect(try events.filter { !$0.aggregateID.hasSuffix("-2") }.allSatisfy { try store.event(id: $0.id) == $0 })

        // Bad usage exits 2; a missing store is not created.
        let badUsage = [
            ["master-key"], ["master-key", "turn"], ["master-key", "rotate", "--batch-size", "0"],
            ["master-key", "rotate", "--batch-size", "+5"], ["master-key", "rotate", "--batch-size", " 5"],
            ["master-key", "rotate", "--batch-size=5", "--batch-size", "6"],
        ]
        for arguments in badUsage {
            let outcome = try PortalProcess.run(arguments, environment: env, in: dir)
            #expect(
                outcome.status == 2 && outcome.stderrLines.count == (arguments.count == 1 ? 0 : 1),
                "\(arguments): \(outcome.stderr)")
        }
        env["PORTAL_MASTER_KEY_PREVIOUS"] = Self.oldKey
        env["PORTAL_DATA_DIR"] = dir.appendingPathComponent("typo").path
        let typo = try PortalProcess.run(["master-key", "rotate"], environment: env, in: dir)
        #expect(typo.status == 1 && typo.stderr.contains("E9991"), "\(typo.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("typo/events.db").path))
    }

    @Test("on PostgreSQL: several batches, a rerun moves 0; a store of a third key is refused and left as it was")
    func postgres() throws {
        let server = PostgresServer.debian
        let database = try server.createDatabase()
        defer { server.dropDatabase(database) }
        let store = try PostgresEventStore(
            pool: PostgresConnectionPool(options: server.options(database: database), size: 1),
            encryption: try Self.encryption(Self.oldKey))
        defer { store.pool.close() }
        let events = try Self.write(7, to: store)
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var env = PortalProcess.baseEnvironment(dataDirectory: dir.appendingPathComponent("data"))
        env["DATABASE_URL"] =
            "postgresql://\(server.superuser)@/\(database)?host=\(server.socketDirectory)&port=\(server.port)"
        env["PORTAL_MASTER_KEY"] = Self.newKey
        env["PORTAL_MASTER_KEY_PREVIOUS"] = Self.oldKey

        let rotated = try PortalProcess.run(["master-key", "rotate", "--batch-size", "3"], environment: env, in: dir)
        #expect(rotated.status == 0, "\(rotated.stderr)")
        #expect(rotated.stdout.hasPrefix("ok: re-wrapped 8 key(s) in 3 batch(es)"), "\(rotated.stdout)")
        Self.expectNoSecret(rotated)
        let again = try PortalProcess.run(["master-key", "rotate", "--batch-size", "3"], environment: env, in: dir)
        #expect(again.status == 0 && again.stdout.hasPrefix("ok: re-wrapped 0 key(s)"), "\(again.stdout)")
        let newOnly = try PostgresEventStore(
            pool: PostgresConnectionPool(options: server.options(database: database), size: 1),
            encryption: try Self.encryption(Self.newKey))
        defer { newOnly.pool.close() }
        #expect(try events.allSatisfy { try newOnly.event(id: $0.id) == $0 })
        let keys = try server.admin(
            "SELECT DISTINCT master_key_id FROM mcp_documents.subject_keys WHERE wrapped_key IS NOT NULL",
            database: database)
        #expect(keys == [try Self.encryption(Self.newKey).masterKey.id])
        var erase = env
        erase["PORTAL_MASTER_KEY_PREVIOUS"] = nil
        let erased = try PortalProcess.run(["erase", "--subject", "user-6"], environment: erase, in: dir)
        #expect(erased.stdout.hasPrefix("ok: erased subject user-6: destroyed 1 data key(s), overwrote 2 event(s)"))

        // Rotating from a key that did not write the store: refused in one line, nothing moved.
        env["PORTAL_MASTER_KEY"] = Self.thirdKey
        env["PORTAL_MASTER_KEY_PREVIOUS"] = Self.oldKey
        let foreign = try PortalProcess.run(["master-key", "rotate"], environment: env, in: dir)
        #expect(foreign.status == 1 && foreign.stderrLines.count == 1 && foreign.stderr.contains("E9993"))
        #expect(foreign.stderr.contains("PORTAL_MASTER_KEY_PREVIOUS"), "\(foreign.stderr)")
        Self.expectNoSecret(foreign)
        let unchanged = try server.admin(
            "SELECT DISTINCT master_key_id FROM mcp_documents.subject_keys WHERE wrapped_key IS NOT NULL",
            database: database)
        #expect(unchanged == keys)
    }

    @Test("on PostgreSQL: a damaged key is named (E9994) while every other moves, and a rerun is stable")
    func postgresDamagedKey() throws {
        let server = PostgresServer.debian
        let database = try server.createDatabase()
        defer { server.dropDatabase(database) }
        let store = try PostgresEventStore(
            pool: PostgresConnectionPool(options: server.options(database: database), size: 1),
            encryption: try Self.encryption(Self.oldKey))
        defer { store.pool.close() }
        _ = try Self.write(5, to: store)
        let damaged = try #require(
            try server.admin(
                "SELECT key_id FROM mcp_documents.subject_keys WHERE key_id <> 'subject-hash-key' ORDER BY key_id "
                    + "LIMIT 1 OFFSET 1", database: database
            ).first)
        _ = try server.admin(
            "UPDATE mcp_documents.subject_keys SET wrapped_key = 'AAAA' || wrapped_key WHERE key_id = '\(damaged)'",
            database: database)
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var env = PortalProcess.baseEnvironment(dataDirectory: dir.appendingPathComponent("data"))
        env["DATABASE_URL"] =
            "postgresql://\(server.superuser)@/\(database)?host=\(server.socketDirectory)&port=\(server.port)"
        env["PORTAL_MASTER_KEY"] = Self.newKey
        env["PORTAL_MASTER_KEY_PREVIOUS"] = Self.oldKey

        for _ in 0..<2 {
            let rotated = try PortalProcess.run(
                ["master-key", "rotate", "--batch-size", "2"], environment: env, in: dir)
            #expect(rotated.status == 1, "\(rotated.stderr)")
            #expect(rotated.stdout.contains("5 live key(s) under the current key, 1 left under the previous one"))
            #expect(!rotated.stdout.contains("can be removed"), "\(rotated.stdout)")
            #expect(rotated.stderrLines.count == 1 && rotated.stderr.contains("E9994 1 key(s)"), "\(rotated.stderr)")
            #expect(rotated.stderr.contains(damaged) && rotated.stderr.contains("keep PORTAL_MASTER_KEY_PREVIOUS"))
            Self.expectNoSecret(rotated)
        }
        let left = try server.admin(
            "SELECT key_id FROM mcp_documents.subject_keys WHERE master_key_id <> "
                + "'\(try Self.encryption(Self.newKey).masterKey.id)'", database: database)
        #expect(left == [damaged])
    }

    @Test("on PostgreSQL: a database without a store is refused (E9991) and left without a schema; an empty store")
    func postgresNoStore() throws {
        let server = PostgresServer.debian
        let database = try server.createDatabase()
        defer { server.dropDatabase(database) }
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var env = PortalProcess.baseEnvironment(dataDirectory: dir.appendingPathComponent("data"))
        env["PORTAL_MASTER_KEY"] = Self.newKey
        env["PORTAL_MASTER_KEY_PREVIOUS"] = Self.oldKey
        let schemas = "SELECT count(*) FROM pg_namespace WHERE nspname = 'mcp_documents'"

        // Through DATABASE_URL, and through POSTGRES_HOST: refused before anything is created.
        var byURL = env
        byURL["DATABASE_URL"] =
            "postgresql://\(server.superuser)@/\(database)?host=\(server.socketDirectory)&port=\(server.port)"
        var byHost = env
        byHost["POSTGRES_HOST"] = server.socketDirectory
        byHost["POSTGRES_PORT"] = String(server.port)
        byHost["POSTGRES_DB"] = database
        byHost["POSTGRES_USER"] = server.superuser
        for (variables, variable) in [(byURL, "DATABASE_URL"), (byHost, "POSTGRES_HOST")] {
            let refused = try PortalProcess.run(["master-key", "rotate"], environment: variables, in: dir)
            #expect(refused.status == 1 && refused.stderrLines.count == 1, "\(refused.stderr)")
            #expect(refused.stderr.contains("E9991 \(variable): the database holds no store"), "\(refused.stderr)")
            #expect(refused.stdout.isEmpty)
            #expect(try server.admin(schemas, database: database) == ["0"])
        }

        // A store without keys: nothing to do, said plainly, and nothing recorded.
        let store = try PostgresEventStore(
            pool: PostgresConnectionPool(options: server.options(database: database), size: 1),
            encryption: try Self.encryption(Self.oldKey))
        store.pool.close()
        let empty = try PortalProcess.run(["master-key", "rotate"], environment: byURL, in: dir)
        #expect(empty.status == 0, "\(empty.stderr)")
        #expect(empty.stdout.hasPrefix("ok: the store holds no data keys"), "\(empty.stdout)")
        #expect(try server.admin("SELECT count(*) FROM mcp_documents.subject_keys", database: database) == ["0"])
    }

    @Test("on PostgreSQL: a role without the privileges is named (E9995); the data layer's role rotates")
    func postgresRoles() throws {
        let server = PostgresServer.debian
        let database = try server.createDatabase()
        defer { server.dropDatabase(database) }
        _ = try PostgresDatabaseSetup.initialize(
            options: server.options(database: database), dataLayerPassword: nil, gatewayPassword: nil)
        let store = try PostgresEventStore(
            pool: PostgresConnectionPool(options: server.options(database: database), size: 1),
            encryption: try Self.encryption(Self.oldKey))
        defer { store.pool.close() }
        _ = try Self.write(2, to: store)
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var env = PortalProcess.baseEnvironment(dataDirectory: dir.appendingPathComponent("data"))
        env["PORTAL_MASTER_KEY"] = Self.newKey
        env["PORTAL_MASTER_KEY_PREVIOUS"] = Self.oldKey
        let url =
            "postgresql://\(server.superuser)@/\(database)?host=\(server.socketDirectory)&port=\(server.port)"

        env["DATABASE_URL"] = url + "&options=-c%20role%3Dl09_service"
        let gateway = try PortalProcess.run(["master-key", "rotate"], environment: env, in: dir)
        #expect(gateway.status == 1 && gateway.stderrLines.count == 1, "\(gateway.stderr)")
        #expect(gateway.stderr.contains("E9995 DATABASE_URL: this role may not read or update"), "\(gateway.stderr)")
        #expect(gateway.stderr.contains("l01_service"))

        env["DATABASE_URL"] = url + "&options=-c%20role%3Dl01_service"
        let dataLayer = try PortalProcess.run(["master-key", "rotate"], environment: env, in: dir)
        #expect(dataLayer.status == 0, "\(dataLayer.stderr)")
        #expect(dataLayer.stdout.hasPrefix("ok: re-wrapped 3 key(s)"), "\(dataLayer.stdout)")
    }
}
