/// `portal db init`: the schema, the two service roles and their least privileges, idempotently.
///
/// Run with a superuser's or the database owner's connection (it creates roles and owns the tables). Every
/// step is safe to repeat: migrations already applied are skipped, roles that exist are kept (their
/// attributes reset to plain `LOGIN`), and grants are first revoked and then given again, so the result is
/// exactly the privileges below whatever was granted before:
///
/// - `l01_service` (the data layer): `SELECT, INSERT, UPDATE, DELETE` on `events` (`DELETE` for retention
///   purges); `SELECT, INSERT, UPDATE` on `subject_keys` (erasure overwrites rows and destroys keys);
///   `SELECT, INSERT` on `audit_records`; `SELECT` on `schema_migrations`.
/// - `l09_service` (the gateway): `SELECT` on `events` and `schema_migrations`; nothing on `subject_keys`, so it
///   reads sealed payloads only as ciphertext; on the credential tables what
///   verifying keys, logging users in and rotating refresh tokens takes, and no `DELETE` anywhere:
///   `SELECT` on `users`; `SELECT, INSERT, UPDATE` on `api_keys` (the admin API creates, rotates and revokes
///   keys) and `refresh_tokens`; `SELECT, INSERT` on `revoked_tokens`; `EXECUTE` on the function
///   `purge_expired_credentials`, which deletes expired refresh tokens and revocations and nothing else.
///   Users are written only with the owner's connection (`portal user`).
/// - `l01_service` holds nothing on the credential tables.
/// - `PUBLIC`: nothing on the database, the schema, its tables or functions; no `CREATE` on schema `public`.
///
/// Passwords are turned into SCRAM-SHA-256 verifiers on this side (`PQencryptPasswordConn`), so a plain
/// password never travels to the server nor lands in its logs.
public enum PostgresDatabaseSetup {
    /// The data layer's role.
    public static let dataLayerRole = "l01_service"
    /// The gateway's role: reads events, reads users, keeps API keys and refresh tokens.
    public static let gatewayRole = "l09_service"

    /// Applies migrations, creates or resets the roles, and sets every grant.
    /// - Parameters:
    ///   - options: an owner's or superuser's connection.
    ///   - dataLayerPassword: sets `l01_service`'s password when given; nil leaves it as it is.
    ///   - gatewayPassword: sets `l09_service`'s password when given; nil leaves it as it is.
    /// - Returns: one line per thing done, for the operator.
    /// - Throws: `StoreError` naming the failed step's SQLSTATE; nothing of the role and grant steps is kept then.
    public static func initialize(
        options: PostgresConnectionOptions, dataLayerPassword: String?, gatewayPassword: String?
    ) throws -> [String] {
        let pool = PostgresConnectionPool(options: options, size: 1)
        defer { pool.close() }
        return try pool.withConnection { connection, deadline in
            var report: [String] = []
            let applied = try PostgresMigrations.apply(on: connection, deadline: deadline)
            let latest = PostgresMigrations.latestVersion
            report.append(
                applied.isEmpty
                    ? "schema mcp_documents: up to date (version \(latest))"
                    : "schema mcp_documents: applied migration \(applied.map(String.init).joined(separator: ", "))"
                        + " (now at version \(latest))")
            try connection.transaction(deadline: deadline) {
                for (role, password) in [(dataLayerRole, dataLayerPassword), (gatewayRole, gatewayPassword)] {
                    report += try ensureRole(role, password: password, on: connection, deadline: deadline)
                }
                try grant(on: connection, deadline: deadline)
            }
            let database = try connection.query("SELECT current_database()", deadline: deadline).text(0, 0) ?? "?"
            report += [
                "database \(database): revoked ALL from PUBLIC; granted CONNECT to l01_service, l09_service",
                "schema mcp_documents: revoked ALL from PUBLIC; granted USAGE to l01_service, l09_service",
                "schema public: revoked CREATE from PUBLIC",
                "tables in mcp_documents: revoked ALL from PUBLIC, l01_service, l09_service",
                "l01_service: granted SELECT, INSERT, UPDATE, DELETE on mcp_documents.events; "
                    + "SELECT, INSERT on mcp_documents.audit_records; SELECT on mcp_documents.schema_migrations",
                "l01_service: granted SELECT, INSERT, UPDATE on mcp_documents.subject_keys",
                "l09_service: granted SELECT on mcp_documents.events; SELECT on mcp_documents.schema_migrations",
                "l09_service: granted SELECT on mcp_documents.users; SELECT, INSERT, UPDATE on "
                    + "mcp_documents.api_keys, mcp_documents.refresh_tokens; SELECT, INSERT on "
                    + "mcp_documents.revoked_tokens",
                "functions in mcp_documents: revoked ALL from PUBLIC, l01_service, l09_service; granted EXECUTE on "
                    + "mcp_documents.purge_expired_credentials to l09_service (deletes expired credentials only)",
                "credential tables (users, api_keys, refresh_tokens, revoked_tokens): nothing for l01_service; "
                    + "users are written with the owner's connection (portal user)",
                "audit_records: UPDATE, DELETE and TRUNCATE are refused by trigger for every role",
            ]
            return report
        }
    }

    /// Creates `role` with `LOGIN` only, or resets an existing one to that; sets its password when given.
    private static func ensureRole(
        _ role: String, password: String?, on connection: PostgresConnection, deadline: UInt64
    ) throws -> [String] {
        // Attributes of an existing role: LOGIN and nothing more, or it is reset (and only then altered, so
        // that concurrent runs over one cluster do not update the same catalog row for nothing).
        let attributes = try connection.query(
            "SELECT rolcanlogin AND NOT (rolsuper OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls) "
                + "FROM pg_roles WHERE rolname = $1", [.text(role)], deadline: deadline)
        let exists = attributes.count == 1
        let loginOnly = exists && attributes.text(0, 0) == "t"
        // Role names are this program's constants; only the verifier is a value, and it travels as a parameter.
        switch (role, exists, loginOnly) {
        case (_, true, true): break
        case (dataLayerRole, false, _): try connection.execute("CREATE ROLE l01_service LOGIN", deadline: deadline)
        case (gatewayRole, false, _): try connection.execute("CREATE ROLE l09_service LOGIN", deadline: deadline)
        case (dataLayerRole, true, false):
            try connection.execute(
                "ALTER ROLE l01_service LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS",
                deadline: deadline)
        default:
            try connection.execute(
                "ALTER ROLE l09_service LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS",
                deadline: deadline)
        }
        let state =
            !exists ? "created with LOGIN only" : loginOnly ? "exists with LOGIN only" : "exists, reset to LOGIN only"
        var line = "role \(role): \(state)"
        if let password {
            guard let verifier = connection.scramVerifier(password: password, user: role) else {
                throw StoreError.unavailable("encrypt_password")
            }
            _ = try connection.query(
                "SELECT set_config('portal.role_verifier', $1, true)", [.text(verifier)], deadline: deadline)
            if role == dataLayerRole {
                try connection.execute(
                    """
                    DO $$ BEGIN
                        EXECUTE format('ALTER ROLE l01_service PASSWORD %L', current_setting('portal.role_verifier'));
                    END $$
                    """, deadline: deadline)
            } else {
                try connection.execute(
                    """
                    DO $$ BEGIN
                        EXECUTE format('ALTER ROLE l09_service PASSWORD %L', current_setting('portal.role_verifier'));
                    END $$
                    """, deadline: deadline)
            }
            line += "; password set (SCRAM-SHA-256)"
        } else {
            line += "; password unchanged"
        }
        var lines = [line]
        // Memberships would lend the role more than its grants: name them for the operator to review.
        let memberships = try connection.query(
            "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
                + "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1 ORDER BY 1", [.text(role)],
            deadline: deadline)
        for row in 0..<memberships.count {
            lines.append("warning: role \(role) is a member of \(memberships.text(row, 0) ?? "?"); review it")
        }
        return lines
    }

    /// Revokes everything from PUBLIC and the service roles, then grants exactly their privileges.
    private static func grant(on connection: PostgresConnection, deadline: UInt64) throws {
        let statements: [StaticString] = [
            """
            DO $$ BEGIN
                EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
                EXECUTE format('GRANT CONNECT ON DATABASE %I TO l01_service, l09_service', current_database());
            END $$
            """,
            "REVOKE ALL ON SCHEMA mcp_documents FROM PUBLIC",
            "GRANT USAGE ON SCHEMA mcp_documents TO l01_service, l09_service",
            "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
            "REVOKE ALL ON ALL TABLES IN SCHEMA mcp_documents FROM PUBLIC, l01_service, l09_service",
            "REVOKE ALL ON ALL SEQUENCES IN SCHEMA mcp_documents FROM PUBLIC, l01_service, l09_service",
            "REVOKE ALL ON ALL FUNCTIONS IN SCHEMA mcp_documents FROM PUBLIC, l01_service, l09_service",
            "GRANT SELECT, INSERT, UPDATE ON mcp_documents.events TO l01_service",
            // Retention purges (PORTAL_CONFIG "retention") delete old events; nothing else is ever deleted.
            "GRANT DELETE ON mcp_documents.events TO l01_service",
            "GRANT SELECT, INSERT ON mcp_documents.audit_records TO l01_service",
            "GRANT SELECT, INSERT, UPDATE ON mcp_documents.subject_keys TO l01_service",
            "GRANT SELECT ON mcp_documents.schema_migrations TO l01_service, l09_service",
            "GRANT SELECT ON mcp_documents.events TO l09_service",
            "GRANT SELECT ON mcp_documents.users TO l09_service",
            "GRANT SELECT, INSERT, UPDATE ON mcp_documents.api_keys, mcp_documents.refresh_tokens TO l09_service",
            "GRANT SELECT, INSERT ON mcp_documents.revoked_tokens TO l09_service",
            // The gateway's only way to delete: expired refresh tokens and revocations, through the function.
            "GRANT EXECUTE ON FUNCTION mcp_documents.purge_expired_credentials(bigint, bigint) TO l09_service",
        ]
        for statement in statements { try connection.execute(statement, deadline: deadline) }
    }
}
