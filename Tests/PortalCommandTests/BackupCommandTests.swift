import Foundation
import PostgresTestSupport
import Store
import Testing

/// `portal backup create | verify | restore` run as an operator would, on SQLite and on PostgreSQL.
@Suite("portal backup")
struct BackupCommandTests {
    static let key = "backup-key-" + UUID().uuidString

    /// Writes `bytes` beside `file` under `name`.
    static func variant(of file: URL, _ name: String, _ bytes: [UInt8]) throws -> String {
        let url = file.deletingLastPathComponent().appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// Files in `dir` that are not hidden.
    static func visibleFiles(_ dir: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    @Test("SQLite: create while serve runs, verify, refusals of damaged files by verify and restore, round trip")
    func sqlite() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        var env = PortalProcess.baseEnvironment(dataDirectory: data)
        env["BACKUP_KEY"] = Self.key
        let added = try PortalProcess.run(
            ["user", "add", "alice", "--roles", "admin"], environment: env, in: dir, stdin: "a long enough passphrase\n"
        )
        #expect(added.status == 0, "\(added.stderr)")
        let events = try SQLiteEventStore(directory: data.path)
        for index in 0..<25 {
            _ = try events.append(
                NewEvent(
                    eventType: "story.created", aggregateType: "story", aggregateID: "s-\(index % 3)",
                    payloadJSON: "{\"n\":\(index)}"))
        }
        // The backup is taken online, while portal serve holds the data directory.
        let portal = try RunningPortal(
            environment: env, directory: dir, expectedListeners: ["gateway", "admin", "data layer"])
        let file = dir.appendingPathComponent("store.bak")
        let created = try PortalProcess.run(["backup", "create", "--out", file.path], environment: env, in: dir)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout.hasPrefix("ok: wrote \(file.path): sqlite store"))
        #expect(created.stdout.contains("events 25 rows") && created.stdout.contains("users 1 rows"))
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        // Restore into the directory serve holds is refused, after verifying, and changes nothing.
        let busy = try PortalProcess.run(["backup", "restore", file.path, "--force"], environment: env, in: dir)
        #expect(busy.status == 1 && busy.stderr.contains("E9985") && busy.stderr.contains("in use"), "\(busy.stderr)")
        #expect(portal.terminate() == 0)

        let verified = try PortalProcess.run(["backup", "verify", file.path], environment: env, in: dir)
        #expect(verified.status == 0 && verified.stdout.contains("events 25 rows"), "\(verified.stderr)")
        let bytes = try [UInt8](Data(contentsOf: file))
        var flipped = bytes
        flipped[bytes.count - 40] ^= 0x04
        let damaged: [(String, [UInt8], [String: String], String)] = [
            ("flipped.bak", flipped, env, "E9982 chunk "),
            ("truncated.bak", Array(bytes.prefix(bytes.count - 20)), env, "E9983 the file is truncated"),
            ("wrongkey.bak", bytes, env.merging(["BACKUP_KEY": "another-key-" + UUID().uuidString]) { $1 }, "E9981"),
        ]
        for (name, content, environment, message) in damaged {
            let path = try Self.variant(of: file, name, content)
            let verify = try PortalProcess.run(["backup", "verify", path], environment: environment, in: dir)
            #expect(verify.status == 1 && verify.stderr.contains(message), "\(name): \(verify.stderr)")
            let target = dir.appendingPathComponent("target-" + name)
            var restoreEnv = environment
            restoreEnv["PORTAL_DATA_DIR"] = target.path
            let restore = try PortalProcess.run(["backup", "restore", path], environment: restoreEnv, in: dir)
            #expect(restore.status == 1 && restore.stderr.contains(message), "\(name): \(restore.stderr)")
            #expect(!FileManager.default.fileExists(atPath: target.path), "\(name): restore wrote something")
        }

        // A good file restores into an empty directory; the restored store serves the same users and events.
        let target = dir.appendingPathComponent("restored")
        var restoreEnv = env
        restoreEnv["PORTAL_DATA_DIR"] = target.path
        let restored = try PortalProcess.run(["backup", "restore", file.path], environment: restoreEnv, in: dir)
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(Self.visibleFiles(target) == ["credentials.db", "events.db"])
        let listed = try PortalProcess.run(["user", "list"], environment: restoreEnv, in: dir)
        #expect(listed.stdout.contains("alice roles=admin"))
        let copy = try SQLiteEventStore(directory: target.path)
        #expect(try copy.list(EventQuery(limit: 100)).events == events.list(EventQuery(limit: 100)).events)
        let again = try PortalProcess.run(["backup", "restore", file.path], environment: restoreEnv, in: dir)
        #expect(again.status == 1 && again.stderr.contains("--force"), "\(again.stderr)")
    }

    @Test("production refuses backups without BACKUP_KEY; a short key is refused; no file is written")
    func keyRequired() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var env = PortalProcess.baseEnvironment(dataDirectory: dir.appendingPathComponent("data"))
        env["PORTAL_ENV"] = "production"
        let out = dir.appendingPathComponent("x.bak").path
        let refused = try PortalProcess.run(["backup", "create", "--out", out], environment: env, in: dir)
        #expect(refused.status == 2 && refused.stderr.contains("BACKUP_KEY: is required in production"))
        env["BACKUP_KEY"] = "too-short"
        let short = try PortalProcess.run(["backup", "create", "--out", out], environment: env, in: dir)
        #expect(short.status == 2 && short.stderr.contains("BACKUP_KEY: must be at least 32 bytes"))
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("development without BACKUP_KEY: create generates a 0600 key in the data directory and says so")
    func developmentKey() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        let env = PortalProcess.baseEnvironment(dataDirectory: data)
        let added = try PortalProcess.run(
            ["user", "add", "alice"], environment: env, in: dir, stdin: "a long enough passphrase\n")
        #expect(added.status == 0)
        let file = dir.appendingPathComponent("dev.bak").path
        let created = try PortalProcess.run(["backup", "create", "--out", file], environment: env, in: dir)
        #expect(
            created.status == 0 && created.stderr.contains("generated \(data.path)/backup_key"), "\(created.stderr)")
        let keyPath = data.appendingPathComponent("backup_key").path
        #expect((try FileManager.default.attributesOfItem(atPath: keyPath)[.posixPermissions] as? Int) == 0o600)
        #expect(try PortalProcess.run(["backup", "verify", file], environment: env, in: dir).status == 0)
        // Elsewhere, without the key, the file cannot be opened: the error says which setting to give.
        var elsewhere = env
        elsewhere["PORTAL_DATA_DIR"] = dir.appendingPathComponent("other").path
        let refused = try PortalProcess.run(["backup", "restore", file], environment: elsewhere, in: dir)
        #expect(refused.status == 1 && refused.stderr.contains("BACKUP_KEY_FILE"), "\(refused.stderr)")
        elsewhere["BACKUP_KEY_FILE"] = keyPath
        let restored = try PortalProcess.run(["backup", "restore", file], environment: elsewhere, in: dir)
        #expect(restored.status == 0, "\(restored.stderr)")
    }

    @Test("PostgreSQL: create from one database, restore into another, identical; a damaged file is refused")
    func postgres() throws {
        let server = PostgresServer.debian
        let source = try server.createDatabase(), target = try server.createDatabase()
        defer {
            server.dropDatabase(source)
            server.dropDatabase(target)
        }
        let store = try PostgresEventStore(
            pool: PostgresConnectionPool(options: server.options(database: source), size: 1))
        defer { store.pool.close() }
        for index in 0..<30 {
            _ = try store.append(
                NewEvent(
                    eventType: "story.created", aggregateType: "story", aggregateID: "s-\(index % 4)",
                    payloadJSON: "{\"n\":\(index),\"t\":\"a\\tb\"}"))
        }
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var env = PortalProcess.baseEnvironment(dataDirectory: dir.appendingPathComponent("data"))
        env["BACKUP_KEY"] = Self.key
        func url(_ database: String) -> String {
            "postgresql://\(server.superuser)@/\(database)?host=\(server.socketDirectory)&port=\(server.port)"
        }
        let file = dir.appendingPathComponent("pg.bak")
        env["DATABASE_URL"] = url(source)
        let created = try PortalProcess.run(["backup", "create", "--out", file.path], environment: env, in: dir)
        #expect(created.status == 0 && created.stdout.contains("postgresql store"), "\(created.stderr)")
        #expect(created.stdout.contains("events 30 rows"))

        env["DATABASE_URL"] = url(target)
        var bytes = try [UInt8](Data(contentsOf: file))
        bytes[100] ^= 0x01
        let damaged = try Self.variant(of: file, "damaged.bak", bytes)
        let refused = try PortalProcess.run(["backup", "restore", damaged], environment: env, in: dir)
        #expect(refused.status == 1 && refused.stderr.contains("E9982 chunk 0"), "\(refused.stderr)")
        #expect(
            try server.admin("SELECT count(*) FROM pg_namespace WHERE nspname = 'mcp_documents'", database: target) == [
                "0"
            ])
        let restored = try PortalProcess.run(["backup", "restore", file.path], environment: env, in: dir)
        #expect(restored.status == 0, "\(restored.stderr)")
        let dump = "SELECT json_agg(e ORDER BY sequence)::text FROM mcp_documents.events e"
        #expect(try server.admin(dump, database: target) == server.admin(dump, database: source))
        let verified = try PortalProcess.run(["backup", "verify", file.path], environment: env, in: dir)
        #expect(verified.status == 0, "\(verified.stderr)")
    }

    @Test("create refuses an --out that exists (a store file, a device, an earlier backup) or is in the data directory")
    func outputRefusals() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        var env = PortalProcess.baseEnvironment(dataDirectory: data)
        env["BACKUP_KEY"] = Self.key
        _ = try SQLiteEventStore(directory: data.path).append(
            NewEvent(eventType: "story.created", aggregateType: "story", aggregateID: "s-1", payloadJSON: "{}"))
        let storeFile = data.appendingPathComponent("events.db").path
        let before = try Data(contentsOf: URL(fileURLWithPath: storeFile))
        let earlier = dir.appendingPathComponent("earlier.bak").path
        try Data("an earlier backup".utf8).write(to: URL(fileURLWithPath: earlier))
        let cases = [
            (storeFile, "already exists"), ("/dev/null", "already exists"), (earlier, "already exists"),
            (data.appendingPathComponent("new.bak").path, "inside PORTAL_DATA_DIR"),
            (dir.appendingPathComponent("data/../data/other.bak").path, "inside PORTAL_DATA_DIR"),
            (dir.appendingPathComponent("missing/x.bak").path, "directory does not exist"),
        ]
        for (out, reason) in cases {
            let refused = try PortalProcess.run(["backup", "create", "--out", out], environment: env, in: dir)
            #expect(refused.status == 1, "\(out)")
            #expect(refused.stderr.contains("E9989") && refused.stderr.contains(reason), "\(out): \(refused.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: storeFile)) == before)
        #expect(try String(contentsOfFile: earlier, encoding: .utf8) == "an earlier backup")
        var status = stat()
        #expect(lstat("/dev/null", &status) == 0 && (status.st_mode & S_IFMT) == S_IFCHR)
        #expect(!FileManager.default.fileExists(atPath: data.appendingPathComponent("new.bak").path))
        let fine = dir.appendingPathComponent("fresh.bak").path
        #expect(try PortalProcess.run(["backup", "create", "--out", fine], environment: env, in: dir).status == 0)
    }
}
