import Dispatch
import Foundation
import PostgresTestSupport
import Synchronization
import Testing

/// Users, API keys and logins kept in PostgreSQL and shared by the gateways on it, against the real binary.
@Suite("credentials on PostgreSQL")
struct PostgresCredentialTests {
    /// Settings two gateways must share to accept each other's tokens and keys.
    static let shared = [
        "JWT_SECRET": "a-shared-jwt-secret-of-at-least-32-bytes",
        "CREDENTIAL_HMAC_KEY": "a-shared-credential-key-of-32-bytes-or-more", "RATE_LIMIT_BY_IP": "false",
    ]

    /// `l09_service` with its password over TCP: the gateway's own URL.
    static func gatewayURL(_ deployment: PostgresDeployment) -> String {
        "postgresql://l09_service:\(deployment.gatewayPassword)@127.0.0.1:\(deployment.cluster.port)/"
            + "\(deployment.database)?sslmode=disable"
    }

    @Test("portal user add on PostgreSQL, then login through portal serve and a second gateway sharing the logins")
    func userAddThenLogin() throws {
        let deployment = try PostgresDeployment()
        let password = "a long and private passphrase"
        var owner = PortalProcess.baseEnvironment(dataDirectory: deployment.directory.appendingPathComponent("owner"))
        owner["DATABASE_URL"] = deployment.ownerURL
        let added = try PortalProcess.run(
            ["user", "add", "alice", "--roles", "developer"], environment: owner, in: deployment.directory,
            stdin: password + "\n")
        #expect(added.status == 0, "\(added.stderr)")
        #expect(
            try deployment.cluster.server.admin("SELECT username, roles FROM mcp_documents.users", database: "portal")
                == ["alice|developer"])
        #expect(!FileManager.default.fileExists(atPath: deployment.directory.path + "/owner/credentials.db"))

        // portal serve: the data layer as l01_service, the gateway as l09_service.
        var serveEnv = PortalProcess.baseEnvironment(
            dataDirectory: deployment.directory.appendingPathComponent("serve"))
        serveEnv.merge(Self.shared) { $1 }
        serveEnv["DATABASE_URL"] = deployment.dataLayerURL()
        serveEnv["GATEWAY_POSTGRES_USER"] = "l09_service"
        serveEnv["GATEWAY_POSTGRES_PASSWORD"] = deployment.gatewayPassword
        serveEnv["L01_API_KEYS"] = deployment.serviceKey
        let serve = try RunningPortal(
            environment: serveEnv, directory: deployment.directory,
            expectedListeners: ["gateway", "admin", "data layer"])
        defer { _ = serve.terminate() }
        let first = "http://127.0.0.1:\(try #require(serve.ports["gateway"]))"
        let login = try Curl.request([
            "-X", "POST", "\(first)/auth/token", "--data-urlencode", "grant_type=password",
            "--data-urlencode", "username=alice", "--data-urlencode", "password=\(password)",
        ])
        #expect(login.status == 200, "\(login.body)")
        let refresh = try #require(login.json?["refresh_token"] as? String)
        let wrong = try Curl.request([
            "-X", "POST", "\(first)/auth/token", "--data-urlencode", "grant_type=password",
            "--data-urlencode", "username=alice", "--data-urlencode", "password=not the password",
        ])
        #expect(wrong.status == 400 && wrong.json?["error"] as? String == "invalid_grant", "\(wrong.body)")

        // A second gateway on the same database, with a data directory of its own.
        var gatewayEnv = PortalProcess.baseEnvironment(
            dataDirectory: deployment.directory.appendingPathComponent("gateway2"))
        gatewayEnv.merge(Self.shared) { $1 }
        gatewayEnv["DATABASE_URL"] = Self.gatewayURL(deployment)
        gatewayEnv["DATA_LAYER_PORT"] = String(try #require(serve.ports["data layer"]))
        gatewayEnv["GATEWAY_L01_API_KEY"] = deployment.serviceKey
        let other = try RunningPortal(
            environment: gatewayEnv, directory: deployment.directory, expectedListeners: ["gateway", "admin"],
            command: "gateway")
        defer { _ = other.terminate() }
        let second = "http://127.0.0.1:\(try #require(other.ports["gateway"]))"

        // The one refresh token presented to both gateways at once: exactly one rotates it.
        let results = Mutex<[Int: Curl.Response]>([:])
        let urls = [first, second]
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            let response = try? Curl.request([
                "-X", "POST", "\(urls[index])/auth/token", "-d", "grant_type=refresh_token",
                "-d", "refresh_token=\(refresh)",
            ])
            results.withLock { $0[index] = response }
        }
        let responses = results.withLock { $0 }
        let statuses = (0..<2).map { responses[$0]?.status ?? -1 }
        #expect(statuses.sorted() == [200, 400], "\(statuses)")
        let winner = try #require((0..<2).first { statuses[$0] == 200 })
        #expect(responses[1 - winner]?.json?["error"] as? String == "invalid_grant")
        // The loser saw a replay and revoked the family: the winner's access token dies on both gateways.
        let access = try #require(responses[winner]?.json?["access_token"] as? String)
        for url in urls {
            var refused = false
            for _ in 0..<50 where !refused {
                let status = try Curl.request(["-H", "Authorization: Bearer \(access)", "\(url)/api/v1/events"]).status
                refused = status == 401
                if !refused { Thread.sleep(forTimeInterval: 0.1) }
            }
            #expect(refused, "\(url)")
        }
        #expect(
            try deployment.cluster.server.admin(
                "SELECT DISTINCT status FROM mcp_documents.refresh_tokens", database: "portal") == ["revoked"])
    }

    @Test("keys made with the gateway's role work on a gateway; the gateway's role may not add users")
    func keysAndRoles() throws {
        let deployment = try PostgresDeployment()
        var gatewayEnv = PortalProcess.baseEnvironment(
            dataDirectory: deployment.directory.appendingPathComponent("gateway"))
        gatewayEnv.merge(Self.shared) { $1 }
        gatewayEnv["DATABASE_URL"] = Self.gatewayURL(deployment)
        let refused = try PortalProcess.run(
            ["user", "add", "mallory", "--roles", "admin"], environment: gatewayEnv, in: deployment.directory,
            stdin: "a long and private passphrase\n")
        #expect(refused.status == 1)
        #expect(refused.stderrLines.count == 1, "\(refused.stderr)")
        #expect(refused.stderr.hasPrefix("portal: DATABASE_URL: this role may not change the credential tables"))
        #expect(!refused.stderr.contains(deployment.gatewayPassword))

        let created = try PortalProcess.run(
            ["key", "create", "--name", "l03"], environment: gatewayEnv, in: deployment.directory)
        #expect(created.status == 0, "\(created.stderr)")
        let key = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(
            try deployment.cluster.server.admin("SELECT name FROM mcp_documents.api_keys", database: "portal") == [
                "l03"
            ])
        let dataLayer = try deployment.startDataLayer()
        defer { _ = dataLayer.terminate() }
        gatewayEnv["DATA_LAYER_PORT"] = String(try #require(dataLayer.ports["data layer"]))
        gatewayEnv["GATEWAY_L01_API_KEY"] = deployment.serviceKey
        let gateway = try RunningPortal(
            environment: gatewayEnv, directory: deployment.directory, expectedListeners: ["gateway", "admin"],
            command: "gateway")
        defer { _ = gateway.terminate() }
        let url = "http://127.0.0.1:\(try #require(gateway.ports["gateway"]))/api/v1/events"
        #expect(try Curl.request(["-H", "X-API-Key: \(key)", url]).status == 200)
        #expect(try Curl.request(["-H", "X-API-Key: \(key.dropLast())0", url]).status == 401)
    }

    @Test("portal serve whose one role may not read the credential tables stops in one line naming the setting")
    func serveNeedsGatewayRole() throws {
        let deployment = try PostgresDeployment()
        var env = PortalProcess.baseEnvironment(dataDirectory: deployment.directory.appendingPathComponent("serve"))
        env["DATABASE_URL"] = deployment.dataLayerURL()
        let outcome = try PortalProcess.run(["serve"], environment: env, in: deployment.directory)
        #expect(outcome.status != 0)
        #expect(outcome.stderrLines.count == 1, "\(outcome.stderr)")
        #expect(
            outcome.stderr.hasPrefix("portal: DATABASE_URL: this role may not read the credential tables"),
            "\(outcome.stderr)")
        #expect(!outcome.stderr.contains(deployment.dataLayerPassword))
    }
}
