/// One numbered schema change of the PostgreSQL store.
struct PostgresMigration {
    let version: Int64
    let statements: [StaticString]
}

/// The PostgreSQL store's schema `mcp_documents`, as numbered migrations recorded in
/// `mcp_documents.schema_migrations`, each applied in its own transaction.
///
/// Applying is idempotent (a recorded version is skipped) and safe for processes starting at once: the
/// whole run holds a session advisory lock, so a second starter waits and then finds nothing left to do.
/// A role that does not own the schema (`l01_service`) can check the versions but not apply one: it then
/// fails naming the missing version, and the operator runs `portal db init` with an owner's URL.
/// Append new migrations with the next number; never edit one that has shipped.
enum PostgresMigrations {
    /// The schema every table lives in.
    static let schema = "mcp_documents"

    /// The advisory lock held while migrating: (0x5350 "SP", 1).
    private static let lockKeys: (Int64, Int64) = (0x5350, 1)

    static let all: [PostgresMigration] = [
        PostgresMigration(
            version: 1,
            statements: [
                """
                CREATE TABLE mcp_documents.events (
                    sequence bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    id uuid NOT NULL UNIQUE,
                    event_type text NOT NULL,
                    aggregate_type text NOT NULL,
                    aggregate_id text NOT NULL,
                    payload json NOT NULL,
                    metadata json NOT NULL,
                    created_at timestamptz NOT NULL,
                    version bigint NOT NULL,
                    CONSTRAINT events_aggregate_version UNIQUE (aggregate_id, version)
                )
                """,
                "CREATE INDEX events_by_type ON mcp_documents.events (event_type, sequence)",
            ]),
        PostgresMigration(
            version: 2,
            statements: [
                """
                CREATE TABLE mcp_documents.audit_records (
                    source_id text NOT NULL,
                    sequence bigint NOT NULL CHECK (sequence >= 1),
                    recorded_at timestamptz NOT NULL,
                    type text NOT NULL,
                    outcome text NOT NULL,
                    request_id text,
                    client_address text,
                    subject text,
                    route text,
                    reason text,
                    token_fingerprint text,
                    prev_hash text NOT NULL,
                    hash text NOT NULL,
                    line text NOT NULL,
                    received_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (source_id, sequence)
                )
                """,
                "CREATE INDEX audit_records_by_time ON mcp_documents.audit_records (recorded_at)",
                // Append-only even for roles that hold UPDATE or DELETE by mistake, the owner included.
                """
                CREATE FUNCTION mcp_documents.refuse_audit_change() RETURNS trigger
                LANGUAGE plpgsql SET search_path = pg_catalog AS $$
                BEGIN
                    RAISE EXCEPTION 'audit records are append-only: % refused', TG_OP
                        USING ERRCODE = 'insufficient_privilege';
                END
                $$
                """,
                """
                CREATE TRIGGER audit_records_append_only BEFORE UPDATE OR DELETE ON mcp_documents.audit_records
                FOR EACH ROW EXECUTE FUNCTION mcp_documents.refuse_audit_change()
                """,
                """
                CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON mcp_documents.audit_records
                FOR EACH STATEMENT EXECUTE FUNCTION mcp_documents.refuse_audit_change()
                """,
            ]),
        // The credential store (`PostgresCredentialStore`): the SQLite store's tables and columns; times are
        // Unix seconds, role and scope lists space-separated.
        PostgresMigration(
            version: 3,
            statements: [
                """
                CREATE TABLE mcp_documents.users (
                    username text PRIMARY KEY,
                    password_hash text NOT NULL,
                    roles text NOT NULL,
                    scopes text NOT NULL,
                    disabled boolean NOT NULL,
                    weak_password boolean NOT NULL,
                    created_at bigint NOT NULL,
                    updated_at bigint NOT NULL
                )
                """,
                """
                CREATE TABLE mcp_documents.api_keys (
                    id text PRIMARY KEY,
                    name text NOT NULL,
                    secret_hash text NOT NULL,
                    roles text NOT NULL,
                    scopes text NOT NULL,
                    created_at bigint NOT NULL,
                    expires_at bigint,
                    revoked_at bigint,
                    grace_until bigint,
                    replaced_by text
                )
                """,
                "CREATE INDEX api_keys_by_name ON mcp_documents.api_keys (name)",
                """
                CREATE TABLE mcp_documents.refresh_tokens (
                    token_hash text PRIMARY KEY,
                    family_id text NOT NULL,
                    subject text NOT NULL,
                    roles text NOT NULL,
                    scopes text NOT NULL,
                    issued_at bigint NOT NULL,
                    expires_at bigint NOT NULL,
                    access_jti text NOT NULL,
                    access_expires_at bigint NOT NULL,
                    status text NOT NULL CHECK (status IN ('active', 'spent', 'revoked'))
                )
                """,
                "CREATE INDEX refresh_tokens_by_family ON mcp_documents.refresh_tokens (family_id)",
                """
                CREATE TABLE mcp_documents.revoked_tokens (
                    jti text PRIMARY KEY,
                    expires_at bigint NOT NULL,
                    revoked_at bigint NOT NULL,
                    reason text NOT NULL
                )
                """,
            ]),
        // Encryption at rest (docs/encryption-at-rest.md): one data key per subject, wrapped by the master key;
        // rows written before it keep format 0 (plaintext) and still read.
        PostgresMigration(
            version: 4,
            statements: [
                """
                CREATE TABLE mcp_documents.subject_keys (
                    key_id text PRIMARY KEY,
                    subject_hash text NOT NULL,
                    master_key_id text NOT NULL,
                    wrapped_key text,
                    created_at timestamptz NOT NULL,
                    destroyed_at timestamptz,
                    CONSTRAINT subject_keys_destroyed CHECK ((wrapped_key IS NULL) = (destroyed_at IS NOT NULL))
                )
                """,
                """
                CREATE UNIQUE INDEX subject_keys_live ON mcp_documents.subject_keys (subject_hash)
                WHERE destroyed_at IS NULL
                """,
                """
                ALTER TABLE mcp_documents.events
                    ADD COLUMN key_id text, ADD COLUMN format smallint NOT NULL DEFAULT 0
                """,
            ]),
        // Purging expired credentials for the gateway's role, which holds no DELETE: a SECURITY DEFINER function,
        // run with the rights of its owner (the tables' owner), that deletes only rows that can no longer matter
        // (see `CredentialStore.purgeExpired`) and never takes `now_seconds` past the database's own clock. Rows
        // another transaction holds are skipped (next run), so a purge never waits on a redemption. `portal db
        // init` grants EXECUTE to l09_service alone.
        PostgresMigration(
            version: 5,
            statements: [
                """
                CREATE FUNCTION mcp_documents.purge_expired_credentials(now_seconds bigint, leeway_seconds bigint)
                RETURNS TABLE (purged_refresh_tokens bigint, purged_revocations bigint)
                LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
                DECLARE
                    cutoff bigint;
                    accepted_after bigint;
                BEGIN
                    IF now_seconds IS NULL OR leeway_seconds IS NULL OR leeway_seconds NOT BETWEEN 0 AND 3600 THEN
                        RAISE EXCEPTION 'purge_expired_credentials: now and a leeway of 0 to 3600 s are required'
                            USING ERRCODE = 'invalid_parameter_value';
                    END IF;
                    cutoff := LEAST(now_seconds, floor(extract(epoch FROM clock_timestamp()))::bigint);
                    accepted_after := cutoff - leeway_seconds;
                    DELETE FROM mcp_documents.revoked_tokens WHERE jti IN (
                        SELECT jti FROM mcp_documents.revoked_tokens WHERE expires_at <= accepted_after
                        FOR UPDATE SKIP LOCKED);
                    GET DIAGNOSTICS purged_revocations = ROW_COUNT;
                    DELETE FROM mcp_documents.refresh_tokens WHERE token_hash IN (
                        SELECT ended.token_hash FROM mcp_documents.refresh_tokens AS ended
                        WHERE ended.expires_at <= cutoff AND NOT EXISTS (
                            SELECT 1 FROM mcp_documents.refresh_tokens AS live
                            WHERE live.family_id = ended.family_id AND live.access_expires_at > accepted_after)
                        FOR UPDATE SKIP LOCKED);
                    GET DIAGNOSTICS purged_refresh_tokens = ROW_COUNT;
                    RETURN NEXT;
                END
                $$
                """,
                // Functions are executable by PUBLIC unless revoked.
                "REVOKE ALL ON FUNCTION mcp_documents.purge_expired_credentials(bigint, bigint) FROM PUBLIC",
            ]),
    ]

    /// The newest version this build knows.
    static var latestVersion: Int64 { all.last?.version ?? 0 }

    /// Applies every migration not yet recorded; returns the versions applied by this call.
    /// - Throws: `StoreError` (`migration`, with the SQLSTATE) when the role may not apply a pending one.
    static func apply(on connection: PostgresConnection, deadline: UInt64) throws -> [Int64] {
        _ = try connection.query(
            "SELECT pg_advisory_lock($1::int, $2::int)", [.integer(lockKeys.0), .integer(lockKeys.1)],
            deadline: deadline)
        defer {
            _ = try? connection.query(
                "SELECT pg_advisory_unlock($1::int, $2::int)", [.integer(lockKeys.0), .integer(lockKeys.1)],
                deadline: deadline)
        }
        do {
            // Checked before creating, so that a role without CREATE passes when the owner already made them.
            let schemaExists =
                try connection.query(
                    "SELECT 1 FROM pg_namespace WHERE nspname = $1", [.text(schema)], deadline: deadline
                ).count == 1
            if !schemaExists { try connection.execute("CREATE SCHEMA mcp_documents", deadline: deadline) }
            let tableExists =
                try connection.query(
                    "SELECT to_regclass('mcp_documents.schema_migrations') IS NOT NULL", deadline: deadline
                ).text(0, 0) == "t"
            if !tableExists {
                try connection.execute(
                    """
                    CREATE TABLE mcp_documents.schema_migrations (
                        version bigint PRIMARY KEY,
                        applied_at timestamptz NOT NULL DEFAULT now()
                    )
                    """, deadline: deadline)
            }
            let recorded = Set(try applied(on: connection, deadline: deadline).map(\.version))
            var appliedNow: [Int64] = []
            for migration in all where !recorded.contains(migration.version) {
                try connection.transaction(deadline: deadline) {
                    for statement in migration.statements { try connection.execute(statement, deadline: deadline) }
                    _ = try connection.query(
                        "INSERT INTO mcp_documents.schema_migrations (version) VALUES ($1)",
                        [.integer(migration.version)], deadline: deadline)
                }
                appliedNow.append(migration.version)
            }
            return appliedNow
        } catch let error as StoreError where error.sqlState == "42501" {
            throw StoreError.migrationNotPermitted(error.sqlState)
        }
    }

    /// Every recorded migration, in version order.
    static func applied(on connection: PostgresConnection, deadline: UInt64) throws -> [AppliedMigration] {
        let rows = try connection.query(
            "SELECT version, (EXTRACT(EPOCH FROM applied_at) * 1000000)::bigint "
                + "FROM mcp_documents.schema_migrations ORDER BY version", deadline: deadline)
        return try (0..<rows.count).map { row in
            AppliedMigration(version: try rows.integer(row, 0), appliedAtMicroseconds: try rows.integer(row, 1))
        }
    }
}
