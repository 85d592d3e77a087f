import Auth
import Config
import Crypto
import Store

/// The credential store and keys shared by `portal serve` and the `portal user` / `portal key` commands, so that
/// both find the same store and hash secrets the same way.
enum CredentialSetup {
    /// PostgreSQL when `DATABASE_URL` or `POSTGRES_HOST` is set (schema `mcp_documents`, shared by every
    /// gateway on the database), else `$PORTAL_DATA_DIR/credentials.db`.
    /// - Parameter gateway: true for the gateway itself, which logs in as `GATEWAY_POSTGRES_USER` when set;
    ///   the commands use the connection as configured (the owner's, for `portal user`).
    static func store(_ settings: PortalSettings, gateway: Bool = false) throws -> any CredentialStore {
        guard let postgres = settings.postgres else {
            try DataDirectory.ensure(settings.portalDataDirectory)
            do {
                return try SQLiteCredentialStore(directory: settings.portalDataDirectory)
            } catch {
                throw SigningSecret.Failure(
                    description: "PORTAL_DATA_DIR: cannot open the credential store: \(error)")
            }
        }
        let (options, variable) = try postgresOptions(postgres, gateway: gateway)
        do {
            // The gateway's workers block on it; the commands need one connection.
            let pool = PostgresConnectionPool(options: options, size: gateway ? postgres.poolSize : 1)
            return try PostgresCredentialStore(pool: pool)
        } catch let error as StoreError where error.metricLabel == "migration" {
            throw SigningSecret.Failure(
                description: "\(variable): the schema mcp_documents needs migrations this role may not apply "
                    + "(\(options)); run `portal db init` with an owner's URL first")
        } catch {
            throw SigningSecret.Failure(
                description: "\(variable): cannot open the credential store on PostgreSQL (\(options)): \(error)")
        }
    }

    /// The connection options of the credential store, and the setting to name when it fails.
    static func postgresOptions(
        _ postgres: PostgresSettings, gateway: Bool
    ) throws -> (PostgresConnectionOptions, String) {
        let options = try PortalRuntime.postgresOptions(postgres)
        let variable = postgres.url != nil ? "DATABASE_URL" : "POSTGRES_HOST"
        guard gateway, let user = postgres.gatewayUser else { return (options, variable) }
        do {
            var own = try options.setting("user", to: user)
            if let password = postgres.gatewayPassword { own = try own.setting("password", to: password.text) }
            return (own, "GATEWAY_POSTGRES_USER")
        } catch {
            throw SigningSecret.Failure(
                description: "GATEWAY_POSTGRES_USER: not a valid PostgreSQL connection setting", badSetting: true)
        }
    }

    /// What to tell the operator when the credential store cannot be read: a role without the grants of
    /// `portal db init` (SQLSTATE 42501) is named as such.
    static func readFailure(_ settings: PortalSettings, _ error: any Error) -> String {
        guard let postgres = settings.postgres else {
            return "PORTAL_DATA_DIR: cannot read the credential store: \(error)"
        }
        let variable =
            postgres.gatewayUser != nil
            ? "GATEWAY_POSTGRES_USER" : postgres.url != nil ? "DATABASE_URL" : "POSTGRES_HOST"
        if let error = error as? StoreError, error.sqlState == "42501" {
            return "\(variable): this role may not read the credential tables; the gateway runs as l09_service "
                + "(set GATEWAY_POSTGRES_USER with `portal serve`) after `portal db init`"
        }
        return "\(variable): cannot read the credential store: \(error)"
    }

    /// Runs a command's store work; a role without the privilege (SQLSTATE 42501) becomes one line naming the
    /// setting and the role that may do it.
    static func asPermitted<T>(_ settings: PortalSettings, _ command: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as StoreError where error.sqlState == "42501" {
            let variable = settings.postgres?.url != nil ? "DATABASE_URL" : "POSTGRES_HOST"
            throw SigningSecret.Failure(
                description: "\(variable): this role may not change the credential tables; run `portal \(command)` "
                    + "with the owner's connection (the one given to `portal db init`)")
        }
    }

    /// `CREDENTIAL_HMAC_KEY(_FILE)`, or in development a key generated once into the data directory.
    static func hasher(_ settings: PortalSettings) throws -> CredentialHasher {
        CredentialHasher(key: try credentialKey(settings))
    }

    /// The bytes of `CREDENTIAL_HMAC_KEY(_FILE)`, or in development of a key generated once into the data
    /// directory; `hasher(_:)` and the shared failure counts' account digests are keyed with it.
    static func credentialKey(_ settings: PortalSettings) throws -> [UInt8] {
        if let key = settings.auth.credentialHMACKey { return key.bytes }
        return try SigningSecret.generatedFile("credential_hmac_key", in: settings.portalDataDirectory)
    }

    /// Production refuses to start while an enabled account has a weak or default password: one flagged when it
    /// was set, or one that a default (its own name, `admin`, the guide's examples) verifies against.
    static func refuseWeakUsers(_ store: any CredentialStore, hasher: PasswordHasher = PasswordHasher()) throws {
        for user in try store.users() where !user.disabled {
            let weak =
                user.weakPassword
                || PasswordPolicy.candidates(for: user.username).contains {
                    hasher.verify($0, against: user.passwordHash)
                }
            if weak {
                throw SigningSecret.Failure(
                    description: "users: \(user.username) has a weak or default password; set another with "
                        + "`portal user passwd \(user.username)` or disable it (PORTAL_ENV=production)")
            }
        }
    }
}
