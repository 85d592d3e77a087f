import Config
import PortalCore
import Store
import Telemetry

extension PortalRuntime {
    /// The data layer's store: PostgreSQL when `DATABASE_URL` or `POSTGRES_HOST` is set, else SQLite in
    /// `PORTAL_DATA_DIR`; and how many worker threads may block on it at once.
    /// - Parameter encryption: seals event payloads and metadata; nil for commands that only read audit records.
    static func makeStore(
        _ settings: PortalSettings, encryption: EventEncryption? = nil
    ) throws -> (store: any EventStore & AuditRecordStore & EventPurging, workers: Int) {
        guard let postgres = settings.postgres else {
            do {
                return (try SQLiteEventStore(directory: settings.portalDataDirectory, encryption: encryption), 2)
            } catch {
                throw StartError(description: "PORTAL_DATA_DIR: cannot open the event store: \(error)")
            }
        }
        let variable = postgres.url != nil ? "DATABASE_URL" : "POSTGRES_HOST"
        let options = try postgresOptions(postgres)
        do {
            // One worker per connection: a worker never waits for another's connection.
            let pool = PostgresConnectionPool(options: options, size: postgres.poolSize)
            return (try PostgresEventStore(pool: pool, encryption: encryption), postgres.poolSize)
        } catch let error as StoreError where error.metricLabel == "migration" {
            throw StartError(
                description: "\(variable): the schema mcp_documents needs migrations this role may not apply "
                    + "(\(options)); run `portal db init` with an owner's URL first")
        } catch {
            throw StartError(description: "\(variable): cannot use PostgreSQL (\(options)): \(error)")
        }
    }

    /// libpq connection options from the settings; `sslmode` is always set explicitly, so that libpq's own
    /// default (`prefer`, which falls back to plain text) or a stray `PGSSLMODE` never decides it.
    static func postgresOptions(_ postgres: PostgresSettings) throws -> PostgresConnectionOptions {
        var overrides = ["sslmode": postgres.sslMode.rawValue]
        if let path = postgres.sslRootCertificatePath { overrides["sslrootcert"] = path }
        do {
            if let url = postgres.url {
                if let password = postgres.password { overrides["password"] = password.text }
                return try PostgresConnectionOptions(
                    url: url.text, overrides: overrides, timeoutSeconds: postgres.timeoutSeconds)
            }
            var parameters: [(keyword: String, value: String)] = [
                ("host", postgres.host ?? "localhost"), ("port", String(postgres.port)),
                ("dbname", postgres.database), ("user", postgres.user),
            ]
            if let password = postgres.password { parameters.append(("password", password.text)) }
            parameters += overrides.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            return try PostgresConnectionOptions(parameters: parameters, timeoutSeconds: postgres.timeoutSeconds)
        } catch {
            let variable = postgres.url != nil ? "DATABASE_URL" : "POSTGRES_HOST"
            throw StartError(description: "\(variable): not a valid PostgreSQL connection setting", badSetting: true)
        }
    }
}
