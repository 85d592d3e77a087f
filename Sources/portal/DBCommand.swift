import Config
import Store

/// `portal db init`: prepares a PostgreSQL database for Story Portal, idempotently, and says what it did.
enum DBCommand {
    static let usage = """
        Usage: portal db init

        Prepares the PostgreSQL database named by DATABASE_URL (or POSTGRES_HOST, _PORT, _DB, _USER,
        _PASSWORD): applies the schema mcp_documents' migrations, creates the roles l01_service (the data
        layer) and l09_service (the gateway) with LOGIN only, revokes everything from PUBLIC, and grants each
        role exactly its privileges. Safe to run again: it converges to the same state and prints each step.

        Run it as a superuser or the database owner (the connection creates roles and owns the tables), for
        example: DATABASE_URL=postgresql://postgres@/portal?host=/var/run/postgresql portal db init
        The database itself must exist (createdb portal).

        Settings:
          L01_DB_PASSWORD(_FILE)   sets l01_service's password (sent as a SCRAM verifier, never in clear)
          L09_DB_PASSWORD(_FILE)   sets l09_service's password
        Without them the roles' passwords are left as they are.

        Afterwards the data layer runs with DATABASE_URL=postgresql://l01_service:...@HOST/DB?sslmode=verify-full
        (or POSTGRES_USER=l01_service); the gateway (`portal gateway`) with the same URL for l09_service, which
        keeps users, API keys and refresh tokens there; `portal serve` runs both halves with the data layer's URL
        and GATEWAY_POSTGRES_USER=l09_service, GATEWAY_POSTGRES_PASSWORD(_FILE). `portal user` needs the owner's.
        """

    static func run(_ raw: [String]) throws -> Int32 {
        let args = try Arguments(raw, valued: [])
        if args.wantsHelp || args.positionals.isEmpty {
            PortalCLI.printOut(usage)
            return args.wantsHelp ? 0 : 2
        }
        guard args.positionals == ["init"] else { throw UsageError("unknown db command; run `portal db --help`") }
        let env = try Environment.load()
        guard let postgres = try PostgresSettings.load(from: env) else {
            throw UsageError(
                "DATABASE_URL: is required: the postgres:// URL (or POSTGRES_HOST) of the database to prepare")
        }
        let production = try env.enumeration("PORTAL_ENV", default: PortalEnvironment.development) == .production
        if production { try postgres.requireProductionTLS() }
        let passwords = try ["L01_DB_PASSWORD", "L09_DB_PASSWORD"].map { name throws -> String? in
            guard let secret = try env.secret(name) else { return nil }
            if PortalSettings.knownWeakSecrets.contains(secret.text.lowercased()) {
                throw UsageError("\(name): is a known example value; generate a random password")
            }
            return secret.text
        }
        let options = try PortalRuntime.postgresOptions(postgres)
        do {
            let report = try PostgresDatabaseSetup.initialize(
                options: options, dataLayerPassword: passwords[0], gatewayPassword: passwords[1])
            for line in report { PortalCLI.printOut(line) }
            return 0
        } catch {
            PortalCLI.printError("portal: db init: \(options): \(error)")
            return 1
        }
    }
}
