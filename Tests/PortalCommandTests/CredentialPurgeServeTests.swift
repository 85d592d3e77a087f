import Foundation
import Store
import Testing

/// The running gateway purges expired refresh tokens and revocations from its credential store shortly after
/// start: on SQLite under `portal serve`, and on PostgreSQL as `l09_service`, which may delete only through the
/// function `portal db init` granted it.
@Suite("Credential purges in a running portal")
struct CredentialPurgeServeTests {
    /// Revocations 3600, 61 and 15 s past their token's `exp` and one a day ahead; an ended refresh family whose
    /// access token died, and one that has not ended. The first two revocations and the ended family can go; the
    /// third stays for the 60 s leeway, which start-up and the first run's delay take well under.
    static func seed(_ store: any CredentialStore, now: Int64) throws {
        for (jti, expiresAt) in [
            ("old", now - 3600), ("past-61", now - 61), ("past-15", now - 15), ("live", now + 86_400),
        ] {
            try store.revokeToken(RevokedToken(tokenID: jti, expiresAt: expiresAt, revokedAt: now - 7200, reason: "x"))
        }
        for (hash, expiresAt) in [("ended", now - 10), ("open", now + 86_400)] {
            try store.insertRefreshToken(
                RefreshTokenRecord(
                    tokenHash: hash, familyID: hash, subject: "alice", roles: [], scopes: [], issuedAt: now - 7200,
                    expiresAt: expiresAt, accessTokenID: "j-" + hash, accessExpiresAt: now - 3600))
        }
    }

    /// Waits (at most 30 s) until `portal` has logged `credentials.purged`, and returns that line.
    static func purgeLine(_ portal: RunningPortal) -> [String: Any]? {
        let deadline = Date().addingTimeInterval(30)
        repeat {
            let line = portal.log.split(separator: "\n").compactMap { line in
                try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            }.first { $0["message"] as? String == "credentials.purged" }
            if let line { return line }
            usleep(200_000)
        } while Date() < deadline
        return nil
    }

    @Test("portal serve purges the SQLite credential store soon after start, logs the counts and counts them")
    func serveOnSQLite() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let now = Int64(Date().timeIntervalSince1970)
        try Self.seed(try SQLiteCredentialStore(directory: dir.path), now: now)

        let portal = try RunningPortal(
            environment: PortalProcess.baseEnvironment(dataDirectory: dir), directory: dir,
            expectedListeners: ["gateway", "admin", "data layer"])
        let line = try #require(Self.purgeLine(portal), "\(portal.log)")
        #expect(line["level"] as? String == "info")
        #expect(line["purged.refresh"] as? Int == 1 && line["purged.revocations"] as? Int == 2, "\(line)")
        let admin = try #require(portal.ports["admin"])
        let metrics = try Curl.request(["http://127.0.0.1:\(admin)/metrics"]).body
        #expect(metrics.contains(#"credentials_purged_total{kind="refresh_token"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"credentials_purged_total{kind="revocation"} 2"#), "\(metrics)")
        #expect(portal.terminate() == 0)

        let store = try SQLiteCredentialStore(directory: dir.path)
        #expect(Set(try store.revokedTokens(expiringAfter: 0).map(\.tokenID)) == ["past-15", "live"])
        let next = RefreshTokenRecord(
            tokenHash: "x", familyID: "x", subject: "alice", roles: [], scopes: [], issuedAt: now, expiresAt: now,
            accessTokenID: "j-x", accessExpiresAt: now)
        #expect(try store.redeemRefreshToken(tokenHash: "ended", replacement: next, at: now) == .unknown)
        #expect(try store.redeemRefreshToken(tokenHash: "open", replacement: next, at: now) != .unknown)
    }

    @Test("a purge interval outside 60 s to 7 days stops start-up with one line naming the setting")
    func badInterval() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var env = PortalProcess.baseEnvironment(dataDirectory: dir)
        env["CREDENTIAL_PURGE_INTERVAL_SECONDS"] = "1"
        let outcome = try PortalProcess.run(["serve"], environment: env, in: dir)
        #expect(outcome.status == 2 && outcome.stderrLines.count == 1, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("CREDENTIAL_PURGE_INTERVAL_SECONDS: expected an integer from 60 to 604800"))
    }

    @Test("portal gateway as l09_service purges PostgreSQL through the granted function, and nothing live")
    func gatewayOnPostgres() throws {
        let deployment = try PostgresDeployment()
        let owner = try PostgresCredentialStore(
            pool: PostgresConnectionPool(
                options: try deployment.cluster.server.options(database: deployment.database), size: 1))
        let now = Int64(Date().timeIntervalSince1970)
        try Self.seed(owner, now: now)
        owner.pool.close()

        var env = PortalProcess.baseEnvironment(dataDirectory: deployment.directory.appendingPathComponent("gw"))
        env.merge(PostgresCredentialTests.shared) { $1 }
        env["DATABASE_URL"] = PostgresCredentialTests.gatewayURL(deployment)
        env["GATEWAY_L01_API_KEY"] = deployment.serviceKey
        env["DATA_LAYER_PORT"] = "9"
        env["AUDIT_STORE_SINK"] = "false"
        let gateway = try RunningPortal(
            environment: env, directory: deployment.directory, expectedListeners: ["gateway", "admin"],
            command: "gateway")
        let line = try #require(Self.purgeLine(gateway), "\(gateway.log)")
        #expect(line["purged.refresh"] as? Int == 1 && line["purged.revocations"] as? Int == 2, "\(line)")
        #expect(!gateway.log.contains("credentials.purge_failed"))
        #expect(gateway.terminate() == 0)

        let server = deployment.cluster.server
        let database = deployment.database
        #expect(
            try server.admin("SELECT jti FROM mcp_documents.revoked_tokens ORDER BY jti", database: database) == [
                "live", "past-15",
            ])
        #expect(try server.admin("SELECT token_hash FROM mcp_documents.refresh_tokens", database: database) == ["open"])
    }
}
