import Foundation
import RedisTestSupport
import Testing

/// `portal serve` with `REDIS_*` against a real redis-server: credentials checked at start-up, the limit kept
/// in Redis, TLS verified, and the password never printed.
@Suite("portal serve with Redis")
struct RedisServeTests {
    static func environment(_ dir: URL, _ extra: [String: String]) -> [String: String] {
        PortalProcess.baseEnvironment(dataDirectory: dir).merging(extra) { $1 }
    }

    @Test(
        "wrong or missing credentials stop start-up with one line naming REDIS_PASSWORD, never the password",
        arguments: [
            ("wrong-password-0815", "refused the credentials (WRONGPASS)"), (nil, "requires a password (NOAUTH)"),
        ] as [(String?, String)])
    func refusedCredentials(password: String?, message: String) throws {
        let server = try RedisServer()
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let userInfo = password.map { ":\($0)@" } ?? ""

        let outcome = try PortalProcess.run(
            ["serve"], environment: Self.environment(dir, ["REDIS_URL": "redis://\(userInfo)127.0.0.1:\(server.port)"]),
            in: dir)

        #expect(outcome.status == 1)
        #expect(outcome.stderrLines.count == 1, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("REDIS_PASSWORD") && outcome.stderr.contains(message), "\(outcome.stderr)")
        #expect(!outcome.stderr.contains("0815"))
    }

    @Test("the per-IP limit lives in Redis: the key appears there, 429 follows, and logs carry no password")
    func limitInRedis() throws {
        let server = try RedisServer()
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let env = Self.environment(
            dir,
            [
                "REDIS_HOST": "127.0.0.1", "REDIS_PORT": String(server.port), "REDIS_PASSWORD": server.password,
                "REDIS_DB": "5", "RATE_LIMIT_BURST": "2", "RATE_LIMIT_REQUESTS_PER_MINUTE": "6",
                "RATE_LIMIT_FAIL_MODE": "closed",
            ])
        let portal = try RunningPortal(
            environment: env, directory: dir, expectedListeners: ["gateway", "admin", "data layer"])
        let gateway = try #require(portal.ports["gateway"])
        let admin = try #require(portal.ports["admin"])

        let statuses = try (0..<4).map { _ in try Curl.request(["http://127.0.0.1:\(gateway)/api/v1/events"]).status }
        let metrics = try Curl.request(["http://127.0.0.1:\(admin)/metrics"]).body

        #expect(statuses == [401, 401, 401, 429])
        #expect(try server.cli(["-n", "5", "EXISTS", "portal:rl:127.0.0.1"]) == "1")
        #expect(metrics.contains("rate_limit_backend_circuit_state 0"))
        #expect(portal.startupLog.contains("redis.connected"))
        #expect(!portal.startupLog.contains(server.password))
        #expect(portal.terminate() == 0)
    }

    @Test("an unreachable Redis does not stop start-up; with RATE_LIMIT_FAIL_MODE=closed requests get 503 E9910")
    func unreachableAtStart() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let env = Self.environment(
            dir,
            [
                "REDIS_URL": "redis://:some-password@127.0.0.1:\(RedisServer.freePort())",
                "RATE_LIMIT_FAIL_MODE": "closed", "RATE_LIMIT_CIRCUIT_COOLDOWN_SECONDS": "60",
            ])
        let portal = try RunningPortal(
            environment: env, directory: dir, expectedListeners: ["gateway", "admin", "data layer"])
        let gateway = try #require(portal.ports["gateway"])
        let admin = try #require(portal.ports["admin"])

        let answers = try (0..<5).map { _ in try Curl.request(["http://127.0.0.1:\(gateway)/api/v1/events"]) }
        let metrics = try Curl.request(["http://127.0.0.1:\(admin)/metrics"]).body

        #expect(portal.startupLog.contains("redis.unreachable_at_start"))
        #expect(answers.allSatisfy { $0.status == 503 && $0.header("Retry-After") == "1" })
        let error = answers.first?.json?["error"] as? [String: Any]
        #expect(error?["code"] as? String == "E9910")
        #expect(metrics.contains("rate_limit_backend_circuit_state 1"), "the circuit opened")
        #expect(metrics.contains(#"rate_limit_backend_errors_total{kind="#))
        #expect(!portal.startupLog.contains("some-password"))
        #expect(portal.terminate() == 0)
    }

    @Test("rediss:// with a certificate from portal cert self-signed: verified with REDIS_TLS_CA_PATH, else refused")
    func tls() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = PortalProcess.baseEnvironment(dataDirectory: dir)
        for name in ["redis-tls", "other"] {
            let made = try PortalProcess.run(
                ["cert", "self-signed", "--host", "localhost", "--out", dir.appendingPathComponent(name).path],
                environment: base, in: dir)
            #expect(made.status == 0)
        }
        let files = RedisServer.TLSFiles(
            certificatePath: dir.appendingPathComponent("redis-tls/cert.pem").path,
            keyPath: dir.appendingPathComponent("redis-tls/key.pem").path)
        let server = try RedisServer(tls: files)
        let url = "rediss://:\(server.password)@localhost:\(server.port)"

        let good = try RunningPortal(
            environment: Self.environment(dir, ["REDIS_URL": url, "REDIS_TLS_CA_PATH": files.certificatePath]),
            directory: dir, expectedListeners: ["gateway", "admin", "data layer"])
        let gateway = try #require(good.ports["gateway"])
        #expect(try Curl.request(["http://127.0.0.1:\(gateway)/api/v1/events"]).header("RateLimit-Limit") == "21")
        #expect(try server.cli(["EXISTS", "portal:rl:127.0.0.1"]) == "1")
        #expect(good.terminate() == 0)

        let other = dir.appendingPathComponent("other/cert.pem").path
        let refused = try PortalProcess.run(
            ["serve"], environment: Self.environment(dir, ["REDIS_URL": url, "REDIS_TLS_CA_PATH": other]), in: dir)
        #expect(refused.status == 1)
        #expect(refused.stderrLines.count == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("REDIS_TLS_CA_PATH") && refused.stderr.contains("certificate verify failed"))
    }
}
