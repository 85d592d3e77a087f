import Foundation
import PostgresTestSupport
import Store
import Testing

/// `portal serve` and `portal data-layer` on PostgreSQL, and their start-up errors.
@Suite("portal on PostgreSQL")
struct PostgresServeTests {
    @Test("portal serve on PostgreSQL: events through the gateway land there, and so does its audit trail")
    func serveOnPostgres() throws {
        let deployment = try PostgresDeployment()
        var env = PortalProcess.baseEnvironment(dataDirectory: deployment.directory.appendingPathComponent("serve"))
        env["DATABASE_URL"] = deployment.dataLayerURL()
        env["PORTAL_MASTER_KEY"] = deployment.masterKey
        // The gateway half keeps its credentials in PostgreSQL too, as the gateway's own role.
        env["GATEWAY_POSTGRES_USER"] = "l09_service"
        env["GATEWAY_POSTGRES_PASSWORD"] = deployment.gatewayPassword
        let portal = try RunningPortal(
            environment: env, directory: deployment.directory, expectedListeners: ["gateway", "admin", "data layer"])
        let gateway = "http://127.0.0.1:\(try #require(portal.ports["gateway"]))"
        let token = try PortalProcess.run(
            ["token", "issue", "--sub", "alice", "--scope", "events:read events:write"], environment: env,
            in: deployment.directory
        ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let created = try Curl.request([
            "-X", "POST", "\(gateway)/api/v1/events", "-H", "Authorization: Bearer \(token)",
            "-H", "Content-Type: application/json",
            "-d", #"{"event_type":"story.created","aggregate_type":"story","aggregate_id":"s-1","payload":{"t":1}}"#,
        ])
        #expect(created.status == 201, "\(created.body)")
        let id = try #require(created.json?["id"] as? String)
        let store = try deployment.ownerStore()
        defer { store.pool.close() }
        #expect(try store.event(id: id)?.payloadJSON == #"{"t":1}"#)
        // The gateway recorded auth.success; the shipper moved it into the table.
        let source = try deployment.instanceID(dataDirectory: "serve")
        let stored = try deployment.waitForStored(1, source: source, seconds: 20)
        #expect(stored.first?.contains("\"auth.success\"") == true)
        let metrics = try Curl.request(["http://127.0.0.1:\(try #require(portal.ports["admin"]))/metrics"]).body
        #expect(metrics.contains("audit_shipped_total"))
        #expect(metrics.contains("audit_ship_lag_records"))
        #expect(portal.terminate() == 0)
        // A clean stop ships what is left: the table ends equal to the file.
        #expect(try deployment.storedLines(source: source) == deployment.auditLines(dataDirectory: "serve"))

        // The stored chain verifies with the chain key; an edit made by someone who could lift the trigger shows.
        let verified = try PortalProcess.run(
            ["audit", "verify", "--in", "store"], environment: env, in: deployment.directory)
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.hasPrefix("ok: store, source \(source):"))
        try deployment.cluster.server.admin(
            """
            ALTER TABLE mcp_documents.audit_records DISABLE TRIGGER audit_records_append_only;
            UPDATE mcp_documents.audit_records SET line = replace(line, '"alice"', '"mallory"') WHERE sequence = 1;
            """, database: deployment.database)
        let tampered = try PortalProcess.run(
            ["audit", "verify", "--in", "store"], environment: env, in: deployment.directory)
        #expect(tampered.status == 1)
        #expect(
            tampered.stderr.contains("record 1 (line 1): hash does not match its content (edited)"),
            "\(tampered.stderr)")
    }

    @Test("portal audit verify --in store checks the chain the embedded SQLite store holds")
    func verifySQLiteStore() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let env = PortalProcess.baseEnvironment(dataDirectory: dir)
        let portal = try RunningPortal(
            environment: env, directory: dir, expectedListeners: ["gateway", "admin", "data layer"])
        for _ in 0..<5 {
            _ = try Curl.request(["http://127.0.0.1:\(try #require(portal.ports["gateway"]))/api/v1/events"])
        }
        #expect(portal.terminate() == 0)
        let verified = try PortalProcess.run(["audit", "verify", "--in", "store"], environment: env, in: dir)
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.contains(": 5 records (records 1-5)"), "\(verified.stdout)")
        // The file's tail cut off together with its checkpoints: the store, which holds all five, names the cut.
        let file = dir.appendingPathComponent("audit.log")
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
        #expect(try PortalProcess.run(["audit", "verify"], environment: env, in: dir).status == 0)
        try (lines[0..<3].joined(separator: "\n") + "\n").write(to: file, atomically: false, encoding: .utf8)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("audit.log.checkpoints"))
        let cut = try PortalProcess.run(["audit", "verify"], environment: env, in: dir)
        #expect(cut.status == 1, "\(cut.stdout)")
        #expect(
            cut.stderr.contains(
                "truncated: the store holds this gateway's records up to 5 but the file ends at record 3"),
            "\(cut.stderr)")
    }

    @Test("production with an sslmode that may fall back to plain text refuses to start, in one line")
    func productionRefusesPlainText() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var env = PortalProcess.baseEnvironment(dataDirectory: dir)
        env["PORTAL_ENV"] = "production"
        env["JWT_SECRET"] = "0123456789abcdef0123456789abcdef-strong"
        env["AUDIT_HMAC_KEY"] = "audit-chain-key-0123456789abcdef-strong"
        env["AUDIT_SIGNING_KEY_FILE"] = dir.appendingPathComponent("none.pem").path
        env["CREDENTIAL_HMAC_KEY"] = "credential-key-0123456789abcdef-strong"
        env["DATABASE_URL"] = "postgresql://l01_service:hunter2-secret@db.internal/portal?sslmode=prefer"
        let outcome = try PortalProcess.run(["data-layer"], environment: env, in: dir)
        #expect(outcome.status == 2)
        #expect(outcome.stderrLines.count == 1)
        #expect(outcome.stderr.hasPrefix("portal: DATABASE_URL: expected sslmode require, verify-ca or verify-full"))
        #expect(!outcome.stderr.contains("hunter2"))
    }

    @Test("an unreachable database stops start-up in one line naming the setting, without the password")
    func unreachable() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var env = PortalProcess.baseEnvironment(dataDirectory: dir)
        env["DATABASE_URL"] =
            "postgresql://l01_service:hunter2-secret@127.0.0.1:\(try ThrowawayCluster.freePort())/portal"
        env["POSTGRES_TIMEOUT_SECONDS"] = "2"
        let outcome = try PortalProcess.run(["data-layer"], environment: env, in: dir)
        #expect(outcome.status == 1)
        #expect(outcome.stderrLines.count == 1, "\(outcome.stderr)")
        #expect(outcome.stderr.hasPrefix("portal: DATABASE_URL: cannot use PostgreSQL (host=127.0.0.1"))
        #expect(outcome.stderr.contains("Connection refused"))
        #expect(!outcome.stderr.contains("hunter2"))
    }

    @Test("db init without a database named says which setting is missing")
    func dbInitNeedsURL() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let outcome = try PortalProcess.run(
            ["db", "init"], environment: PortalProcess.baseEnvironment(dataDirectory: dir), in: dir)
        #expect(outcome.status == 2)
        #expect(outcome.stderr.hasPrefix("portal: DATABASE_URL: is required"))
    }
}
