import Foundation
import PostgresTestSupport
import Store

/// A throwaway PostgreSQL cluster prepared by `portal db init`, and `portal data-layer` and `portal gateway`
/// processes over it, as an operator would deploy them: the data layer logs in as `l01_service` with its
/// password over TCP; the gateway has a data directory of its own and ships its audit file to the data layer.
final class PostgresDeployment {
    let cluster: ThrowawayCluster
    let database = "portal"
    let dataLayerPassword = "l01-" + UUID().uuidString.lowercased()
    let gatewayPassword = "l09-" + UUID().uuidString.lowercased()
    let serviceKey = "svc-" + UUID().uuidString.lowercased()
    /// `PORTAL_MASTER_KEY` of the data layers started here, so that `ownerStore` can open what they sealed.
    let masterKey = "master-" + UUID().uuidString.lowercased()
    let directory: URL
    /// What `portal db init` printed.
    private(set) var initOutput = ""

    init(tls: Bool = false) throws {
        cluster = try ThrowawayCluster(tls: tls)
        directory = try PortalProcess.temporaryDirectory()
        try cluster.server.admin("CREATE DATABASE \(database)")
        var env = PortalProcess.baseEnvironment(dataDirectory: directory.appendingPathComponent("init"))
        env["DATABASE_URL"] = ownerURL
        env["L01_DB_PASSWORD"] = dataLayerPassword
        env["L09_DB_PASSWORD"] = gatewayPassword
        let outcome = try PortalProcess.run(["db", "init"], environment: env, in: directory)
        guard outcome.status == 0 else {
            throw PostgresTestError("portal db init failed: \(outcome.stderr)\(outcome.stdout)")
        }
        initOutput = outcome.stdout
    }

    /// The superuser over the cluster's Unix socket: what an operator gives `portal db init`.
    var ownerURL: String { "postgresql://postgres@/\(database)?host=\(cluster.directory)&port=\(cluster.port)" }

    /// The data layer's URL: `l01_service` with its password over TCP.
    func dataLayerURL(sslmode: String = "disable") -> String {
        "postgresql://l01_service:\(dataLayerPassword)@127.0.0.1:\(cluster.port)/\(database)?sslmode=\(sslmode)"
    }

    /// Starts `portal data-layer` on PostgreSQL; `extra` adds or overrides settings.
    func startDataLayer(_ extra: [String: String] = [:]) throws -> RunningPortal {
        var env = PortalProcess.baseEnvironment(dataDirectory: directory.appendingPathComponent("l01"))
        env["DATABASE_URL"] = dataLayerURL()
        env["L01_API_KEYS"] = serviceKey
        env["POSTGRES_TIMEOUT_SECONDS"] = "1"
        env["PORTAL_MASTER_KEY"] = masterKey
        env.merge(extra) { $1 }
        return try RunningPortal(
            environment: env, directory: directory, expectedListeners: ["data layer"], command: "data-layer")
    }

    /// Starts `portal gateway` with the data directory `name`, shipping to the data layer at `dataLayerPort`.
    func startGateway(dataDirectory name: String, dataLayerPort: Int) throws -> RunningPortal {
        var env = PortalProcess.baseEnvironment(dataDirectory: directory.appendingPathComponent(name))
        env["DATA_LAYER_PORT"] = String(dataLayerPort)
        env["GATEWAY_L01_API_KEY"] = serviceKey
        env["RATE_LIMIT_BY_IP"] = "false"
        return try RunningPortal(
            environment: env, directory: directory, expectedListeners: ["gateway", "admin"], command: "gateway")
    }

    /// The audit file of the gateway with data directory `name`, as complete lines.
    func auditLines(dataDirectory name: String) throws -> [String] {
        let path = directory.appendingPathComponent(name).appendingPathComponent("audit.log").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        // A last line without its newline was torn by a crash: not a record.
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.removeLast()
        return lines
    }

    /// The gateway's instance id: the `source` of its records in the store.
    func instanceID(dataDirectory name: String) throws -> String {
        let path = directory.appendingPathComponent(name).appendingPathComponent("instance_id").path
        return try String(contentsOfFile: path, encoding: .utf8)
    }

    /// The store as the superuser sees it, with the data layers' master key, for reading what landed.
    func ownerStore() throws -> PostgresEventStore {
        let options = try cluster.server.options(database: database)
        let encryption = MasterKey(secret: Array(masterKey.utf8)).map { EventEncryption(masterKey: $0) }
        return try PostgresEventStore(pool: PostgresConnectionPool(options: options, size: 1), encryption: encryption)
    }

    /// The stored audit lines of `source`, in sequence order.
    func storedLines(source: String) throws -> [String] {
        let store = try ownerStore()
        defer { store.pool.close() }
        return try store.auditRecords(source: source, afterSequence: 0, limit: 1_000_000).map(\.line)
    }

    /// Waits until the store holds `count` records of `source`, at most `seconds`.
    func waitForStored(_ count: Int, source: String, seconds: Double = 60) throws -> [String] {
        let deadline = Date().addingTimeInterval(seconds)
        var lines: [String] = []
        repeat {
            lines = (try? storedLines(source: source)) ?? []
            if lines.count >= count { return lines }
            usleep(200_000)
        } while Date() < deadline
        return lines
    }

    deinit {
        cluster.destroy()
        try? FileManager.default.removeItem(at: directory)
    }
}
