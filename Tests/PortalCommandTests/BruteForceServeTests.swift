import Foundation
import RedisTestSupport
import Testing

/// Password guessing against `portal serve`, from two client addresses behind a trusted proxy.
@Suite("brute-force protection in portal serve")
struct BruteForceServeTests {
    @Test("30 wrong passwords from one address: 429s, ban.added audited, bans_active 1; another address logs in")
    func thirtyWrongPasswords() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var env = PortalProcess.baseEnvironment(dataDirectory: dir)
        env["TRUSTED_PROXIES"] = "127.0.0.1/32"
        env["RATE_LIMIT_REQUESTS_PER_MINUTE"] = "100000"
        env["RATE_LIMIT_BURST"] = "10000"
        let password = "the right and long passphrase"
        let added = try PortalProcess.run(
            ["user", "add", "carol", "--roles", "viewer"], environment: env, in: dir, stdin: password + "\n")
        #expect(added.status == 0)
        let portal = try RunningPortal(
            environment: env, directory: dir, expectedListeners: ["gateway", "admin", "data layer"])
        defer { _ = portal.terminate() }
        let token = "http://127.0.0.1:\(try #require(portal.ports["gateway"]))/auth/token"
        let metrics = "http://127.0.0.1:\(try #require(portal.ports["admin"]))/metrics"
        func login(_ address: String, _ secret: String) throws -> Int {
            try Curl.request([
                "-X", "POST", token, "-H", "X-Forwarded-For: \(address)", "-d", "grant_type=password",
                "-d", "username=carol", "--data-urlencode", "password=\(secret)",
            ]).status
        }
        var statuses: [Int] = []
        for attempt in 0..<30 { statuses.append(try login("203.0.113.50", "wrong-\(attempt)")) }
        #expect(statuses.prefix(10).allSatisfy { $0 == 400 } && statuses.dropFirst(10).allSatisfy { $0 == 429 })
        #expect(try login("198.51.100.20", password) == 200)
        let exposition = try Curl.request([metrics]).body
        #expect(exposition.contains("\nbans_active 1\n"), "\(exposition)")
        #expect(portal.terminate() == 0)
        let audit = try String(contentsOf: dir.appendingPathComponent("audit.log"), encoding: .utf8)
        let bans = audit.split(separator: "\n").filter { $0.contains(#""type":"ban.added""#) }
        #expect(bans.count == 1 && bans.first?.contains(#""client_address":"203.0.113.50""#) == true)
        #expect(!audit.contains(password) && !audit.contains("wrong-"))
    }

    @Test("two portal serve processes on one Redis: spread guesses ban an address and lock an account on both")
    func sharedAcrossProcesses() throws {
        let server = try RedisServer()
        let password = "the right and long passphrase"
        var portals: [RunningPortal] = []
        var directories: [URL] = []
        defer {
            for portal in portals { _ = portal.terminate() }
            for directory in directories { try? FileManager.default.removeItem(at: directory) }
            server.stop()
        }
        var tokenURLs: [String] = []
        for _ in 0..<2 {
            let dir = try PortalProcess.temporaryDirectory()
            directories.append(dir)
            var env = PortalProcess.baseEnvironment(dataDirectory: dir)
            env["TRUSTED_PROXIES"] = "127.0.0.1/32"
            env["RATE_LIMIT_REQUESTS_PER_MINUTE"] = "100000"
            env["RATE_LIMIT_BURST"] = "10000"
            // Accounts are named in Redis by digests under the credential key: the gateways share it.
            env["CREDENTIAL_HMAC_KEY"] = "brute-force-serve-tests-credential-key-0123456789"
            let added = try PortalProcess.run(
                ["user", "add", "carol", "--roles", "viewer"], environment: env, in: dir, stdin: password + "\n")
            #expect(added.status == 0)
            env["REDIS_URL"] = "redis://:\(server.password)@127.0.0.1:\(server.port)"
            let portal = try RunningPortal(
                environment: env, directory: dir, expectedListeners: ["gateway", "admin", "data layer"])
            portals.append(portal)
            tokenURLs.append("http://127.0.0.1:\(try #require(portal.ports["gateway"]))/auth/token")
        }
        func login(_ url: String, _ address: String, _ secret: String) throws -> Int {
            try Curl.request([
                "-X", "POST", url, "-H", "X-Forwarded-For: \(address)", "-d", "grant_type=password",
                "-d", "username=carol", "--data-urlencode", "password=\(secret)",
            ]).status
        }

        // Neither gateway sees ten failures; together they do.
        for attempt in 0..<10 {
            #expect(try login(tokenURLs[attempt % 2], "203.0.113.60", "wrong-\(attempt)") == 400, "attempt \(attempt)")
        }
        /// Whether `address`'s logins with the right password are refused through every gateway within 3 s.
        func refusedEverywhere(_ address: String) throws -> Bool {
            try tokenURLs.allSatisfy { url in
                let deadline = Date().addingTimeInterval(3)
                var status = 0
                while status != 429 && Date() < deadline {
                    status = try login(url, address, password)
                    if status != 429 { usleep(50_000) }
                }
                return status == 429
            }
        }
        #expect(try refusedEverywhere("203.0.113.60"))
        #expect(try login(tokenURLs[0], "198.51.100.20", password) == 200)
        #expect(try server.cli(["EXISTS", "portal:ban:203.0.113.60"]) == "1")

        // Ten addresses, one wrong password each, spread over both: the account's count is shared too.
        for attempt in 0..<10 {
            #expect(try login(tokenURLs[attempt % 2], "198.51.100.\(30 + attempt)", "wrong-\(attempt)") == 400)
        }
        #expect(try refusedEverywhere("198.51.100.21"))
        #expect(try server.cli(["EXISTS", "portal:ban:account:carol"]) == "1")
        for portal in portals { #expect(portal.terminate() == 0) }
        let bans = try directories.flatMap { dir in
            try String(contentsOf: dir.appendingPathComponent("audit.log"), encoding: .utf8).split(separator: "\n")
                .filter { $0.contains(#""type":"ban.added""#) }
        }
        #expect(bans.count == 2, "\(bans)")
        #expect(bans.filter { $0.contains("address_failures:10;seconds:900;offense:1") }.count == 1)
        #expect(bans.filter { $0.contains("account_lock:10;seconds:900;offense:1") }.count == 1)
    }
}
