import Foundation
import PostgresTestSupport
import Testing

@testable import Store

/// The right to erasure end to end, as an operator and an API client would exercise it: through the gateway,
/// through `portal erase`, on SQLite and PostgreSQL, and what a backup taken afterwards still holds.
@Suite("Erasure end to end")
struct EraseCommandTests {
    static let masterKey = "erase-test-master-key-" + UUID().uuidString

    static func encryption(_ secret: String = EraseCommandTests.masterKey) throws -> EventEncryption {
        EventEncryption(masterKey: try #require(MasterKey(secret: Array(secret.utf8))))
    }

    static func person(_ subject: String, _ marker: String) -> NewEvent {
        NewEvent(
            eventType: "profile.updated", aggregateType: "person", aggregateID: subject,
            payloadJSON: "{\"name\":\"\(marker)\"}", metadataJSON: "{\"source\":\"signup\"}")
    }

    /// Whether any file under `directory` holds `needle`.
    static func filesContain(_ directory: URL, _ needle: String) throws -> Bool {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        return try names.contains { name in
            var isDirectory: ObjCBool = false
            let path = directory.appendingPathComponent(name).path
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue
            else { return false }
            return try Data(contentsOf: URL(fileURLWithPath: path)).range(of: Data(needle.utf8)) != nil
        }
    }

    @Test("through the gateway: 403 without subjects:erase, 200 with it; reads show erased; audit and backup clean")
    func httpAPIOnSQLite() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        var env = PortalProcess.baseEnvironment(dataDirectory: data)
        env["BACKUP_KEY"] = "backup-key-" + UUID().uuidString
        let portal = try RunningPortal(
            environment: env, directory: dir, expectedListeners: ["gateway", "admin", "data layer"])
        // Development without PORTAL_MASTER_KEY: a key is generated and named in the log.
        #expect(portal.startupLog.contains("master_key.generated"))
        #expect(portal.startupLog.contains("\(data.path)/master_key"))
        let gateway = "http://127.0.0.1:\(try #require(portal.ports["gateway"]))"
        func token(_ sub: String, _ scope: String) throws -> String {
            let issued = try PortalProcess.run(
                ["token", "issue", "--sub", sub, "--scope", scope], environment: env, in: dir)
            return issued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let writer = try token("writer-svc", "events:read events:write")
        let officer = try token("privacy-officer", "subjects:erase")
        let subject = "person-" + UUID().uuidString.prefix(8).lowercased()
        let marker = "Marker Name " + UUID().uuidString
        func post(_ aggregate: String, _ name: String) throws -> String {
            let body =
                #"{"event_type":"profile.updated","aggregate_type":"person","aggregate_id":""# + aggregate
                + #"","payload":{"name":""# + name + #""}}"#
            let created = try Curl.request([
                "-X", "POST", "\(gateway)/api/v1/events", "-H", "Authorization: Bearer \(writer)",
                "-H", "Content-Type: application/json", "-d", body,
            ])
            #expect(created.status == 201, "\(created.body)")
            return try #require(created.json?["id"] as? String)
        }
        let ids = [try post(subject, marker), try post(subject, marker + " again")]
        let other = try post("person-other", "Other Person")

        let denied = try Curl.request([
            "-X", "DELETE", "\(gateway)/api/v1/subjects/\(subject)", "-H", "Authorization: Bearer \(writer)",
        ])
        #expect(denied.status == 403, "\(denied.body)")
        let erased = try Curl.request([
            "-X", "DELETE", "\(gateway)/api/v1/subjects/\(subject)", "-H", "Authorization: Bearer \(officer)",
        ])
        #expect(erased.status == 200, "\(erased.body)")
        #expect(erased.json?["events_erased"] as? Int == 2 && erased.json?["data_keys_destroyed"] as? Int == 1)
        for id in ids {
            let read = try Curl.request(["-H", "Authorization: Bearer \(writer)", "\(gateway)/api/v1/events/\(id)"])
            #expect(read.status == 200 && read.json?["erased"] as? Bool == true && read.json?["payload"] is NSNull)
            #expect(!read.body.contains(marker) && !read.body.contains(subject))
        }
        let listed = try Curl.request(["-H", "Authorization: Bearer \(writer)", "\(gateway)/api/v1/events"])
        #expect(listed.body.contains("Other Person") && listed.body.contains(other))
        #expect(!listed.body.contains(marker) && !listed.body.contains(subject))
        #expect(portal.terminate() == 0)

        // The audit trail has the erasure, by actor and keyed hash, never the subject.
        let audit = try String(contentsOf: data.appendingPathComponent("audit.log"), encoding: .utf8)
        #expect(audit.contains(#""type":"data.erased""#) && audit.contains("privacy-officer"))
        #expect(!audit.contains(subject) && !audit.contains(marker))

        // A backup taken afterwards, restored elsewhere: nothing of the subject, other subjects intact.
        let file = dir.appendingPathComponent("after.bak")
        let created = try PortalProcess.run(["backup", "create", "--out", file.path], environment: env, in: dir)
        #expect(created.status == 0, "\(created.stderr)")
        var elsewhere = env
        let restoredDir = dir.appendingPathComponent("restored")
        elsewhere["PORTAL_DATA_DIR"] = restoredDir.path
        let restored = try PortalProcess.run(["backup", "restore", file.path], environment: elsewhere, in: dir)
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(try !Self.filesContain(restoredDir, subject) && !Self.filesContain(restoredDir, marker))
        let key = try String(contentsOf: data.appendingPathComponent("master_key"), encoding: .utf8)
        let store = try SQLiteEventStore(directory: restoredDir.path, encryption: try Self.encryption(key))
        #expect(try ids.allSatisfy { try store.event(id: $0)?.erased == true })
        #expect(try store.event(id: other)?.payloadJSON == #"{"name":"Other Person"}"#)
    }

    @Test("portal erase on SQLite: prints what it did, idempotent; refuses without the master key")
    func cliOnSQLite() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        var env = PortalProcess.baseEnvironment(dataDirectory: data)
        env["PORTAL_MASTER_KEY"] = Self.masterKey
        let store = try SQLiteEventStore(directory: data.path, encryption: try Self.encryption())
        let marker = "cli-marker-" + UUID().uuidString
        let mine = [try store.append(Self.person("carol", marker)), try store.append(Self.person("carol", marker))]
        let theirs = try store.append(Self.person("dave", "dave's"))
        let connection = try SQLiteConnection(path: data.path + "/events.db", busyTimeoutMilliseconds: 5000)
        let wrapped = try #require(
            try connection.scalarText("SELECT wrapped_key FROM subject_keys ORDER BY created_at LIMIT 1"))
        #expect(try Self.filesContain(data, wrapped) && Self.filesContain(data, "carol"))

        let erased = try PortalProcess.run(["erase", "--subject", "carol"], environment: env, in: dir)
        #expect(erased.status == 0, "\(erased.stderr)")
        #expect(erased.stdout.hasPrefix("ok: erased subject carol: destroyed 1 data key(s), overwrote 2 event(s)"))
        #expect(try mine.allSatisfy { try store.event(id: $0.id)?.erased == true })
        #expect(try store.event(id: theirs.id) == theirs)
        #expect(try !Self.filesContain(data, wrapped) && !Self.filesContain(data, "carol"))
        let again = try PortalProcess.run(["erase", "--subject", "carol"], environment: env, in: dir)
        #expect(again.status == 0 && again.stdout.contains("destroyed 0 data key(s), overwrote 0 event(s)"))

        // Without the key (and no development key file) nothing is attempted; bad usage is refused too.
        var keyless = env
        keyless["PORTAL_MASTER_KEY"] = nil
        let refused = try PortalProcess.run(["erase", "--subject", "dave"], environment: keyless, in: dir)
        #expect(refused.status != 0 && refused.stderrLines.count == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("PORTAL_MASTER_KEY"))
        #expect(try store.event(id: theirs.id) == theirs)
        let usage = try PortalProcess.run(["erase"], environment: env, in: dir)
        #expect(usage.status == 2 && usage.stderr.contains("--subject"))
        let badID = try PortalProcess.run(["erase", "--subject", "a b"], environment: env, in: dir)
        #expect(badID.status == 2)
    }

    @Test("portal erase on PostgreSQL, then a backup restored elsewhere holds no payload and no usable data key")
    func cliOnPostgres() throws {
        let server = PostgresServer.debian
        let source = try server.createDatabase(), target = try server.createDatabase()
        defer {
            server.dropDatabase(source)
            server.dropDatabase(target)
        }
        let store = try PostgresEventStore(
            pool: PostgresConnectionPool(options: server.options(database: source), size: 1),
            encryption: try Self.encryption())
        defer { store.pool.close() }
        let marker = "pg-marker-" + UUID().uuidString
        let mine = [try store.append(Self.person("erin", marker)), try store.append(Self.person("erin", marker))]
        let theirs = try store.append(Self.person("frank", "frank's"))
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var env = PortalProcess.baseEnvironment(dataDirectory: dir.appendingPathComponent("data"))
        env["PORTAL_MASTER_KEY"] = Self.masterKey
        env["BACKUP_KEY"] = "backup-key-" + UUID().uuidString
        func url(_ database: String) -> String {
            "postgresql://\(server.superuser)@/\(database)?host=\(server.socketDirectory)&port=\(server.port)"
        }
        env["DATABASE_URL"] = url(source)

        let erased = try PortalProcess.run(["erase", "--subject", "erin"], environment: env, in: dir)
        #expect(erased.status == 0, "\(erased.stderr)")
        #expect(erased.stdout.hasPrefix("ok: erased subject erin: destroyed 1 data key(s), overwrote 2 event(s)"))
        #expect(try mine.allSatisfy { try store.event(id: $0.id)?.erased == true })
        #expect(try store.event(id: theirs.id) == theirs)

        let file = dir.appendingPathComponent("pg-after.bak")
        let created = try PortalProcess.run(["backup", "create", "--out", file.path], environment: env, in: dir)
        #expect(created.status == 0, "\(created.stderr)")
        env["DATABASE_URL"] = url(target)
        let restored = try PortalProcess.run(["backup", "restore", file.path], environment: env, in: dir)
        #expect(restored.status == 0, "\(restored.stderr)")
        let rows = try server.admin(
            "SELECT aggregate_id || payload::text || metadata::text FROM mcp_documents.events", database: target)
        #expect(rows.count == 4 && !rows.contains { $0.contains("erin") || $0.contains(marker) }, "\(rows)")
        let hash = try Self.encryption().masterKey.subjectHash("erin")
        let keys = try server.admin(
            "SELECT count(*) FROM mcp_documents.subject_keys WHERE subject_hash = '\(hash)' AND wrapped_key IS NULL",
            database: target)
        #expect(keys == ["1"])
        let copy = try PostgresEventStore(
            pool: PostgresConnectionPool(options: server.options(database: target), size: 1),
            encryption: try Self.encryption())
        defer { copy.pool.close() }
        #expect(try mine.allSatisfy { try copy.event(id: $0.id)?.erased == true })
        #expect(try copy.event(id: theirs.id) == theirs)
    }

    @Test("production without PORTAL_MASTER_KEY refuses to start, in one line naming it")
    func productionNeedsMasterKey() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var env = PortalProcess.baseEnvironment(dataDirectory: dir)
        env["PORTAL_ENV"] = "production"
        env["JWT_SECRET"] = "a-production-secret-of-at-least-32-bytes!"
        env["CREDENTIAL_HMAC_KEY"] = "a-production-credential-key-of-32-bytes!"
        env["AUDIT_LOG_ENABLED"] = "false"
        let refused = try PortalProcess.run(["serve"], environment: env, in: dir)
        #expect(refused.status != 0)
        #expect(refused.stderrLines.count == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("PORTAL_MASTER_KEY"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("master_key").path))
        env["PORTAL_MASTER_KEY"] = "short"
        let short = try PortalProcess.run(["serve"], environment: env, in: dir)
        #expect(short.status != 0 && short.stderrLines.count == 1 && short.stderr.contains("PORTAL_MASTER_KEY"))
        #expect(!short.stderr.contains("short\n") && !short.stderr.contains("\"short\""))
    }

    @Test("a store sealed under another master key: serve and portal erase refuse in one line; no key is left behind")
    func foreignMasterKeyRefused() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        let store = try SQLiteEventStore(directory: data.path, encryption: try Self.encryption())
        _ = try store.append(Self.person("user-7", "Ada Lovelace"))
        var env = PortalProcess.baseEnvironment(dataDirectory: data)
        env["PORTAL_MASTER_KEY"] = "another-master-key-" + UUID().uuidString
        let wrongKey = try PortalProcess.run(["serve"], environment: env, in: dir)
        #expect(wrongKey.status != 0)
        #expect(wrongKey.stderrLines.count == 1 && wrongKey.stderr.contains("PORTAL_MASTER_KEY"), "\(wrongKey.stderr)")
        let erase = try PortalProcess.run(["erase", "--subject", "user-7"], environment: env, in: dir)
        #expect(erase.status == 1 && erase.stderr.contains("E9973"), "\(erase.stderr)")
        // Development without the setting (a restore into a fresh directory): no key is generated over it.
        env["PORTAL_MASTER_KEY"] = nil
        let keyless = try PortalProcess.run(["serve"], environment: env, in: dir)
        #expect(keyless.status != 0 && keyless.stderr.contains("PORTAL_MASTER_KEY"), "\(keyless.stderr)")
        #expect(!FileManager.default.fileExists(atPath: data.appendingPathComponent("master_key").path))
        // The data keys are untouched: the right key still reads the event.
        let reopened = try SQLiteEventStore(directory: data.path, encryption: try Self.encryption())
        let page = try reopened.list(EventQuery(aggregateID: "user-7"))
        #expect(page.events.count == 1 && page.events.first?.payloadJSON.contains("Ada") == true)
    }
}
