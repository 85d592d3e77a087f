import Foundation
import PostgresTestSupport
import Store
import Testing

/// `sslmode` as libpq enforces it, against a throwaway cluster that only accepts TLS over TCP.
@Suite("PostgreSQL sslmode", .serialized)
struct PostgresTLSTests {
    /// A cluster with TLS (a self-signed certificate for localhost and 127.0.0.1), TCP refused without it,
    /// and a role that logs in with a password.
    private func cluster(tls: Bool = true) throws -> ThrowawayCluster {
        let cluster = try ThrowawayCluster(tls: tls, hostSSLOnly: tls)
        // The store creates its schema on first use, so the role may create in the database.
        try cluster.server.admin(
            "CREATE ROLE tls_tester LOGIN PASSWORD 'tls-tester-password'; "
                + "GRANT CREATE ON DATABASE postgres TO tls_tester")
        return cluster
    }

    private func store(
        _ cluster: ThrowawayCluster, host: String = "127.0.0.1", _ extra: [(String, String)]
    ) throws -> PostgresEventStore {
        var options = try cluster.tcpOptions(
            database: "postgres", user: "tls_tester", password: "tls-tester-password", extra: extra)
        options = try options.setting("host", to: host)
        return try PostgresEventStore(pool: PostgresConnectionPool(options: options, size: 1))
    }

    /// The connection failure's message, or nil when the store opened.
    private func failure(_ open: () throws -> PostgresEventStore) -> String? {
        do {
            _ = try open()
            return nil
        } catch {
            return String(describing: error)
        }
    }

    @Test("require encrypts; disable is refused by a server that only accepts TLS")
    func requireAndDisable() throws {
        let cluster = try cluster()
        defer { cluster.destroy() }
        let encrypted = try store(cluster, [("sslmode", "require")])
        #expect(try encrypted.connectionUsesTLS())
        let plain = failure { try store(cluster, [("sslmode", "disable")]) }
        #expect(plain?.contains("no pg_hba.conf entry") == true, "\(plain ?? "connected")")
    }

    @Test("verify-full checks the certificate against the configured CA and the host name")
    func verifyFull() throws {
        let cluster = try cluster()
        defer { cluster.destroy() }
        let certificate = try #require(cluster.certificatePath)
        let verified = try store(
            cluster, host: "localhost", [("sslmode", "verify-full"), ("sslrootcert", certificate)])
        #expect(try verified.connectionUsesTLS())
        // The right CA, but a host name the certificate does not name (the address still reaches the server).
        let renamed = failure {
            try store(
                cluster, host: "db.example.invalid",
                [("hostaddr", "127.0.0.1"), ("sslmode", "verify-full"), ("sslrootcert", certificate)])
        }
        #expect(renamed?.contains("does not match host name") == true, "\(renamed ?? "connected")")
        // Another CA: the server's certificate does not chain to it.
        let other = cluster.directory + "/other-ca.crt"
        let made = try Subprocess.run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                "-subj", "/CN=other", "-keyout", cluster.directory + "/other-ca.key", "-out", other,
            ])
        try #require(made.status == 0)
        let wrongCA = failure {
            try store(cluster, host: "localhost", [("sslmode", "verify-full"), ("sslrootcert", other)])
        }
        #expect(wrongCA?.contains("certificate verify failed") == true, "\(wrongCA ?? "connected")")
        // No CA at all: verify modes refuse rather than trust blindly.
        let noCA = failure {
            try store(
                cluster, host: "localhost",
                [("sslmode", "verify-ca"), ("sslrootcert", cluster.directory + "/none.crt")])
        }
        #expect(noCA != nil)
    }

    @Test("require against a server without TLS fails instead of falling back to plain text")
    func requireWithoutServerTLS() throws {
        let cluster = try cluster(tls: false)
        defer { cluster.destroy() }
        let refused = failure { try store(cluster, [("sslmode", "require")]) }
        #expect(refused?.contains("server does not support SSL") == true, "\(refused ?? "connected")")
        let plain = try store(cluster, [("sslmode", "prefer")])
        #expect(try plain.connectionUsesTLS() == false)
    }
}
