import Foundation
import PostgresTestSupport
import Store
import Synchronization
import Testing

/// `portal db init`'s roles and grants on a real PostgreSQL: least privilege, checked statement by statement.
@Suite("PostgreSQL roles and grants (db init)")
struct PostgresPrivilegeTests {
    let server = PostgresServer.debian

    /// A fresh database prepared by `PostgresDatabaseSetup.initialize`, with one event and one audit record.
    private func prepared() throws -> (database: String, report: [String]) {
        let database = try server.createDatabase()
        let report = try PostgresDatabaseSetup.initialize(
            options: try server.options(database: database), dataLayerPassword: nil, gatewayPassword: nil)
        try server.admin(
            """
            INSERT INTO mcp_documents.events (id, event_type, aggregate_type, aggregate_id, payload, metadata,
                created_at, version)
            VALUES (gen_random_uuid(), 't', 'a', 'agg', '{}', '{}', now(), 1);
            INSERT INTO mcp_documents.audit_records (source_id, sequence, recorded_at, type, outcome, prev_hash,
                hash, line)
            VALUES ('gw', 1, now(), 'auth.failure', 'failure', repeat('0', 64), repeat('a', 64), '{}');
            """, database: database)
        return (database, report)
    }

    /// Runs `sql` as `role` and tells whether PostgreSQL refused it for lack of privilege.
    private func refused(_ sql: String, as role: String, in database: String) throws -> Bool {
        let output = try server.psql(sql, database: database, role: role)
        return output.status != 0
            && (output.stderr.contains("permission denied") || output.stderr.contains("must be owner"))
    }

    private func allowed(_ sql: String, as role: String, in database: String) throws -> Bool {
        let output = try server.psql(sql, database: database, role: role)
        return output.status == 0
    }

    @Test("l09_service may read events but cannot write them, nor touch audit records")
    func gatewayRoleReadsOnly() throws {
        let (database, _) = try prepared()
        defer { server.dropDatabase(database) }
        let role = PostgresDatabaseSetup.gatewayRole
        #expect(try allowed("SELECT count(*) FROM mcp_documents.events", as: role, in: database))
        let writes = [
            """
            INSERT INTO mcp_documents.events (id, event_type, aggregate_type, aggregate_id, payload, metadata,
            created_at, version) VALUES (gen_random_uuid(), 't', 'a', 'x', '{}', '{}', now(), 1)
            """,
            "UPDATE mcp_documents.events SET payload = '{\"x\":1}'",
            "DELETE FROM mcp_documents.events",
            "TRUNCATE mcp_documents.events",
            "SELECT * FROM mcp_documents.audit_records",
            "INSERT INTO mcp_documents.audit_records (source_id, sequence, recorded_at, type, outcome, prev_hash, "
                + "hash, line) VALUES ('x', 1, now(), 't', 'o', 'p', 'h', 'l')",
            "CREATE TABLE mcp_documents.intruder (x int)",
        ]
        for sql in writes { #expect(try refused(sql, as: role, in: database), "\(sql)") }
        #expect(try server.admin("SELECT count(*) FROM mcp_documents.events", database: database) == ["1"])
    }

    @Test("l01_service reads, appends, updates and purges events, appends and reads audit records, and nothing more")
    func dataLayerRole() throws {
        let (database, _) = try prepared()
        defer { server.dropDatabase(database) }
        let role = PostgresDatabaseSetup.dataLayerRole
        let permitted = [
            "SELECT count(*) FROM mcp_documents.events",
            """
            INSERT INTO mcp_documents.events (id, event_type, aggregate_type, aggregate_id, payload, metadata,
            created_at, version) VALUES (gen_random_uuid(), 't', 'a', 'y', '{}', '{}', now(), 1)
            """,
            "UPDATE mcp_documents.events SET event_type = 'u' WHERE aggregate_id = 'y'",
            // Retention purges.
            "DELETE FROM mcp_documents.events WHERE created_at < now() - INTERVAL '30 days'",
            "SELECT count(*) FROM mcp_documents.audit_records",
            "INSERT INTO mcp_documents.audit_records (source_id, sequence, recorded_at, type, outcome, prev_hash, "
                + "hash, line) VALUES ('gw', 2, now(), 't', 'o', repeat('a', 64), repeat('b', 64), '{}')",
            "SELECT version FROM mcp_documents.schema_migrations",
        ]
        for sql in permitted { #expect(try allowed(sql, as: role, in: database), "\(sql)") }
        let forbidden = [
            "TRUNCATE mcp_documents.events",
            "UPDATE mcp_documents.audit_records SET reason = 'x'",
            "DELETE FROM mcp_documents.audit_records",
            "TRUNCATE mcp_documents.audit_records",
            "INSERT INTO mcp_documents.schema_migrations (version) VALUES (99)",
            "DROP TABLE mcp_documents.events",
            "CREATE TABLE mcp_documents.intruder (x int)",
            "CREATE TABLE public.intruder (x int)",
        ]
        for sql in forbidden { #expect(try refused(sql, as: role, in: database), "\(sql)") }
        #expect(try server.admin("SELECT count(*) FROM mcp_documents.audit_records", database: database) == ["2"])
    }

    @Test("l09_service reads users, keeps API keys and refresh tokens, records revocations, and deletes nothing")
    func gatewayRoleOnCredentials() throws {
        let (database, report) = try prepared()
        defer { server.dropDatabase(database) }
        try server.admin(
            """
            INSERT INTO mcp_documents.users VALUES ('alice', '$argon2id$x', 'admin', '', false, false, 1, 1);
            INSERT INTO mcp_documents.refresh_tokens VALUES ('h1', 'f1', 'alice', 'admin', '', 1, 9, 'j1', 5, 'active');
            """, database: database)
        let role = PostgresDatabaseSetup.gatewayRole
        let permitted = [
            "SELECT * FROM mcp_documents.users WHERE username = 'alice'",
            "INSERT INTO mcp_documents.api_keys VALUES ('spk_1', 'l03', 'aa', 'service', 'events:read', 1, NULL, "
                + "NULL, NULL, NULL)",
            "UPDATE mcp_documents.api_keys SET revoked_at = 2 WHERE id = 'spk_1'",
            "SELECT * FROM mcp_documents.refresh_tokens WHERE token_hash = 'h1' FOR UPDATE",
            "UPDATE mcp_documents.refresh_tokens SET status = 'spent' WHERE token_hash = 'h1'",
            "INSERT INTO mcp_documents.refresh_tokens VALUES ('h2', 'f1', 'alice', 'admin', '', 2, 9, 'j2', 6, "
                + "'active')",
            "INSERT INTO mcp_documents.revoked_tokens VALUES ('j1', 5, 3, 'logout') ON CONFLICT (jti) DO NOTHING",
            "SELECT jti FROM mcp_documents.revoked_tokens",
        ]
        for sql in permitted { #expect(try allowed(sql, as: role, in: database), "\(sql)") }
        let forbidden = [
            "INSERT INTO mcp_documents.users VALUES ('mallory', 'h', 'admin', '', false, false, 1, 1)",
            "UPDATE mcp_documents.users SET roles = 'admin'",
            "UPDATE mcp_documents.users SET password_hash = 'x' WHERE username = 'alice'",
            "DELETE FROM mcp_documents.users",
            "TRUNCATE mcp_documents.users",
            "DELETE FROM mcp_documents.api_keys",
            "DELETE FROM mcp_documents.refresh_tokens",
            "DELETE FROM mcp_documents.revoked_tokens",
            "UPDATE mcp_documents.revoked_tokens SET expires_at = 0",
            "ALTER TABLE mcp_documents.users ADD COLUMN x int",
        ]
        for sql in forbidden { #expect(try refused(sql, as: role, in: database), "\(sql)") }
        #expect(
            try server.admin("SELECT username, roles FROM mcp_documents.users", database: database) == ["alice|admin"])
        #expect(report.contains { $0.hasPrefix("l09_service: granted SELECT on mcp_documents.users;") })
    }

    @Test("l01_service can neither read nor write the credential tables")
    func dataLayerRoleHasNoCredentials() throws {
        let (database, _) = try prepared()
        defer { server.dropDatabase(database) }
        let role = PostgresDatabaseSetup.dataLayerRole
        for table in ["users", "api_keys", "refresh_tokens", "revoked_tokens"] {
            for sql in [
                "SELECT count(*) FROM mcp_documents.\(table)", "DELETE FROM mcp_documents.\(table)",
                "TRUNCATE mcp_documents.\(table)",
            ] {
                #expect(try refused(sql, as: role, in: database), "\(sql)")
            }
        }
        #expect(
            try refused(
                "INSERT INTO mcp_documents.users VALUES ('m', 'h', 'admin', '', false, false, 1, 1)", as: role,
                in: database))
    }

    @Test("the credential store as l09_service: the gateway's work and purges succeed; writing users is refused")
    func credentialStoreUnderGatewayRole() throws {
        let (database, _) = try prepared()
        defer { server.dropDatabase(database) }
        let owner = try PostgresCredentialStore(
            pool: PostgresConnectionPool(options: try server.options(database: database), size: 1))
        defer { owner.pool.close() }
        try owner.createUser(UserRecord(username: "alice", passwordHash: "h", roles: ["admin"], createdAt: 1))
        let asGateway = try server.options(database: database).setting("options", to: "-c role=l09_service")
        let gateway = try PostgresCredentialStore(pool: PostgresConnectionPool(options: asGateway, size: 2))
        defer { gateway.pool.close() }

        #expect(try gateway.user(named: "alice")?.roles == ["admin"])
        let key = APIKeyRecord(
            id: "spk_0000000000000001", name: "l03", secretHash: "aa", roles: ["service"], scopes: [], createdAt: 1)
        try gateway.insertAPIKey(key)
        var replacement = key
        replacement.id = "spk_0000000000000002"
        #expect(try gateway.rotateAPIKey(id: key.id, replacement: replacement, graceUntil: 50, at: 2))
        #expect(try gateway.revokeAPIKey(id: replacement.id, at: 3))
        let token = RefreshTokenRecord(
            tokenHash: "h1", familyID: "f1", subject: "alice", roles: ["admin"], scopes: [], issuedAt: 1,
            expiresAt: 900, accessTokenID: "j1", accessExpiresAt: 600)
        try gateway.insertRefreshToken(token)
        var next = token
        next.tokenHash = "h2"
        next.accessTokenID = "j2"
        guard case .rotated = try gateway.redeemRefreshToken(tokenHash: "h1", replacement: next, at: 10) else {
            Issue.record("h1 did not rotate as l09_service")
            return
        }
        guard
            case .replayed(_, let revoked) = try gateway.redeemRefreshToken(tokenHash: "h1", replacement: next, at: 11)
        else {
            Issue.record("the replay was not detected as l09_service")
            return
        }
        #expect(Set(revoked.map(\.tokenID)) == ["j1", "j2"])
        try gateway.revokeToken(RevokedToken(tokenID: "j9", expiresAt: 700, revokedAt: 12, reason: "admin"))
        #expect(try gateway.revokedTokens(expiringAfter: 12).count == 3)

        let denied: (any Error) -> Bool = { ($0 as? StoreError)?.sqlState == "42501" }
        #expect {
            try gateway.createUser(UserRecord(username: "mallory", passwordHash: "h", roles: ["admin"], createdAt: 1))
        } throws: { denied($0) }
        #expect {
            try gateway.updatePassword(username: "alice", passwordHash: "x", weakPassword: false, at: 5)
        } throws: {
            denied($0)
        }
        // The purge goes through the function: both refresh tokens of f1 and the three revocations are expired.
        #expect(
            try gateway.purgeExpired(at: 10_000, leewaySeconds: 60)
                == PurgedCredentials(refreshTokens: 2, revocations: 3))
        #expect(try gateway.revokedTokens(expiringAfter: 0).isEmpty)
        #expect(try owner.users().map(\.username) == ["alice"])
    }

    @Test("l09_service deletes credentials only through purge_expired_credentials, which takes expired rows only")
    func gatewayPurgesOnlyExpired() throws {
        let (database, _) = try prepared()
        defer { server.dropDatabase(database) }
        let now = Int64(Date().timeIntervalSince1970)
        try server.admin(
            """
            INSERT INTO mcp_documents.revoked_tokens VALUES ('gone', \(now - 61), 1, 'logout'),
                ('leeway', \(now - 30), 1, 'logout'), ('live', \(now + 86_400), 1, 'logout');
            INSERT INTO mcp_documents.refresh_tokens VALUES
                ('ended', 'f1', 'alice', '', '', 1, \(now - 10), 'j1', \(now - 3600), 'spent'),
                ('open', 'f2', 'alice', '', '', 1, \(now + 86_400), 'j2', \(now - 3600), 'active');
            """, database: database)
        let role = PostgresDatabaseSetup.gatewayRole
        let purge = "SELECT * FROM mcp_documents.purge_expired_credentials"

        // Told a time a year ahead, the function still goes by the database's clock: nothing live is deleted.
        let ahead = try server.psql("\(purge)(\(now + 31_536_000), 60)", database: database, role: role)
        #expect(ahead.status == 0 && ahead.rows == ["1|1"], "\(ahead.stderr)")
        let revocations = "SELECT jti FROM mcp_documents.revoked_tokens ORDER BY jti"
        #expect(try server.admin(revocations, database: database) == ["leeway", "live"])
        #expect(try server.admin("SELECT token_hash FROM mcp_documents.refresh_tokens", database: database) == ["open"])
        // A leeway outside what JWT_LEEWAY allows, or no time at all, is refused.
        for arguments in ["\(now), -1", "\(now), 3601", "NULL, 60", "\(now), NULL"] {
            let output = try server.psql("\(purge)(\(arguments))", database: database, role: role)
            #expect(output.status != 0 && output.stderr.contains("leeway of 0 to 3600"), "\(arguments)")
        }
        #expect(try server.admin(revocations, database: database) == ["leeway", "live"])

        // Direct deletes stay refused, and the function can be neither replaced nor called by another role.
        let forbidden = [
            "DELETE FROM mcp_documents.revoked_tokens WHERE expires_at < \(now)",
            "DELETE FROM mcp_documents.refresh_tokens WHERE expires_at < \(now)",
            """
            CREATE OR REPLACE FUNCTION mcp_documents.purge_expired_credentials(now_seconds bigint, leeway_seconds bigint)
            RETURNS TABLE (purged_refresh_tokens bigint, purged_revocations bigint)
            LANGUAGE sql AS $$ SELECT 0::bigint, 0::bigint $$
            """,
            "ALTER FUNCTION mcp_documents.purge_expired_credentials(bigint, bigint) SECURITY INVOKER",
        ]
        for sql in forbidden { #expect(try refused(sql, as: role, in: database), "\(sql)") }
        #expect(try refused("\(purge)(\(now), 60)", as: PostgresDatabaseSetup.dataLayerRole, in: database))

        // It runs as the tables' owner with a search path no caller can change.
        let definition = try server.admin(
            """
            SELECT p.prosecdef, p.proconfig::text, pg_get_userbyid(p.proowner) = t.tableowner
            FROM pg_proc p, pg_tables t
            WHERE p.proname = 'purge_expired_credentials' AND t.schemaname = 'mcp_documents'
                AND t.tablename = 'revoked_tokens'
            """, database: database)
        #expect(definition == [#"t|{"search_path=pg_catalog, pg_temp"}|t"#])
    }

    @Test("no role but a superuser holds UPDATE, DELETE or TRUNCATE on audit records, and PUBLIC holds nothing")
    func nobodyRewritesAudit() throws {
        let (database, _) = try prepared()
        defer { server.dropDatabase(database) }
        // Predefined roles such as pg_write_all_data are only reached through membership, which the
        // query below sees: a member holds the privilege itself.
        let holders = try server.admin(
            """
            SELECT DISTINCT r.rolname FROM pg_roles r, unnest(ARRAY['UPDATE', 'DELETE', 'TRUNCATE']) AS p(privilege)
            WHERE NOT r.rolsuper AND left(r.rolname, 3) <> 'pg_'
                AND has_table_privilege(r.oid, 'mcp_documents.audit_records', p.privilege)
            """, database: database)
        #expect(holders.isEmpty)
        // PUBLIC is what every role gets: a role created with nothing granted must get nothing at all.
        let stranger = "portal_stranger_" + UUID().uuidString.prefix(8).lowercased()
        try server.admin("CREATE ROLE \(stranger) LOGIN")
        defer { _ = try? server.psql("DROP ROLE \(stranger)") }
        let rows = try server.admin(
            """
            SELECT has_database_privilege('\(stranger)', current_database(), 'CONNECT'),
                has_database_privilege('\(stranger)', current_database(), 'TEMPORARY'),
                has_schema_privilege('\(stranger)', 'mcp_documents', 'USAGE'),
                has_schema_privilege('\(stranger)', 'public', 'CREATE'),
                has_table_privilege('\(stranger)', 'mcp_documents.events', 'SELECT'),
                has_table_privilege('\(stranger)', 'mcp_documents.audit_records', 'SELECT'),
                has_function_privilege(
                    '\(stranger)', 'mcp_documents.purge_expired_credentials(bigint, bigint)', 'EXECUTE')
            """, database: database)
        #expect(rows == ["f|f|f|f|f|f|f"])
        // The owner (a superuser here) is stopped by the trigger instead.
        let output = try server.psql("DELETE FROM mcp_documents.audit_records", database: database)
        #expect(output.status != 0 && output.stderr.contains("append-only"))
    }

    @Test("db init run twice converges: the second run applies nothing and leaves the same grants")
    func idempotent() throws {
        let (database, first) = try prepared()
        defer { server.dropDatabase(database) }
        #expect(first.first == "schema mcp_documents: applied migration 1, 2, 3, 4, 5 (now at version 5)")
        let grants =
            "SELECT grantee, table_name, privilege_type FROM information_schema.role_table_grants "
            + "WHERE table_schema = 'mcp_documents' ORDER BY 1, 2, 3"
        let before = try server.admin(grants, database: database)
        let second = try PostgresDatabaseSetup.initialize(
            options: try server.options(database: database), dataLayerPassword: nil, gatewayPassword: nil)
        #expect(second.first == "schema mcp_documents: up to date (version 5)")
        #expect(second.contains("role l01_service: exists with LOGIN only; password unchanged"))
        #expect(try server.admin(grants, database: database) == before)
        #expect(before.contains("l09_service|events|SELECT"))
        #expect(!before.contains { $0.hasPrefix("l09_service|events|INSERT") })
        #expect(try server.admin("SELECT count(*) FROM mcp_documents.schema_migrations", database: database) == ["5"])
        let executors = try server.admin(
            """
            SELECT r.rolname FROM pg_roles r
            WHERE NOT r.rolsuper AND left(r.rolname, 3) <> 'pg_' AND has_function_privilege(
                r.oid, 'mcp_documents.purge_expired_credentials(bigint, bigint)', 'EXECUTE')
            """, database: database)
        #expect(executors == ["l09_service"])
    }

    @Test("the store runs as l01_service; as l09_service its writes fail and nothing is written")
    func storeUnderRoles() throws {
        let (database, _) = try prepared()
        defer { server.dropDatabase(database) }
        let asDataLayer = try server.options(database: database).setting("options", to: "-c role=l01_service")
        let store = try PostgresEventStore(pool: PostgresConnectionPool(options: asDataLayer, size: 2))
        let event = NewEvent(eventType: "t", aggregateType: "a", aggregateID: "agg", payloadJSON: "{}")
        #expect(try store.append(event).version == 2)
        let asGateway = try server.options(database: database).setting("options", to: "-c role=l09_service")
        let reader = try PostgresEventStore(pool: PostgresConnectionPool(options: asGateway, size: 1))
        #expect(try reader.list(EventQuery(limit: 10)).events.count == 2)
        #expect {
            try reader.append(event)
        } throws: { ($0 as? StoreError)?.sqlState == "42501" }
        #expect(try server.admin("SELECT count(*) FROM mcp_documents.events", database: database) == ["2"])
    }

    @Test("l01_service seals and erases under its grants; l09_service reads ciphertext only, never a data key")
    func encryptionUnderRoles() throws {
        let (database, _) = try prepared()
        defer { server.dropDatabase(database) }
        let asDataLayer = try server.options(database: database).setting("options", to: "-c role=l01_service")
        let store = try PostgresEventStore(
            pool: PostgresConnectionPool(options: asDataLayer, size: 1),
            encryption: try EncryptionAtRestTests.encryption())
        let event = NewEvent(eventType: "t", aggregateType: "a", aggregateID: "alice", payloadJSON: "{\"k\":\"v\"}")
        let stored = try store.append(event)
        #expect(try store.event(id: stored.id) == stored)
        let asGateway = try server.options(database: database).setting("options", to: "-c role=l09_service")
        let reader = try PostgresEventStore(
            pool: PostgresConnectionPool(options: asGateway, size: 1),
            encryption: try EncryptionAtRestTests.encryption())
        #expect { try reader.event(id: stored.id) } throws: { ($0 as? StoreError)?.sqlState == "42501" }
        #expect(
            try server.admin(
                "SELECT has_table_privilege('l09_service', 'mcp_documents.subject_keys', 'SELECT')", database: database)
                == ["f"])
        #expect(try store.eraseSubject("alice", actor: "admin").erasedEvents == 1)
        #expect(try store.event(id: stored.id)?.erased == true)
    }

    @Test("processes starting at once on an empty database apply each migration exactly once")
    func concurrentStarters() throws {
        let database = try server.createDatabase()
        defer { server.dropDatabase(database) }
        let options = try server.options(database: database)
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            do {
                let store = try PostgresEventStore(pool: PostgresConnectionPool(options: options, size: 1))
                store.pool.close()
            } catch {
                failures.add(1, ordering: .relaxed)
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
        #expect(
            try server.admin("SELECT version FROM mcp_documents.schema_migrations ORDER BY 1", database: database) == [
                "1", "2", "3", "4", "5",
            ])
    }

    @Test("a role that may not migrate fails naming the step, instead of running on an old schema")
    func migrationNeedsOwner() throws {
        let database = try server.createDatabase()
        defer { server.dropDatabase(database) }
        try server.admin("GRANT CONNECT ON DATABASE \(database) TO l01_service")
        let asDataLayer = try server.options(database: database).setting("options", to: "-c role=l01_service")
        #expect {
            try PostgresEventStore(pool: PostgresConnectionPool(options: asDataLayer, size: 1))
        } throws: { ($0 as? StoreError)?.metricLabel == "migration" }
    }
}
