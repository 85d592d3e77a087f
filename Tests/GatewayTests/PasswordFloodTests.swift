import Auth
import Config
import Foundation
import Store
import Synchronization
import Testing

/// Password checks have their own fair pool: a flood of wrong passwords from many addresses neither starves a
/// real login from another address nor the store work of other grants.
@Suite("Password checks under a login flood")
struct PasswordFloodTests {
    static func harness() throws -> GatewayHarness {
        var options = GatewayHarness.Options()
        options.withCredentials = true
        options.withTokens = true
        options.trustedProxies = try CIDRList(parsing: "127.0.0.1/32", variable: "TRUSTED_PROXIES")
        let harness = try GatewayHarness(options)
        try #require(harness.credentials).store.createUser(
            UserRecord(
                username: "alice", passwordHash: PasswordHasher().hash(TokenEndpointTests.password),
                roles: ["developer"], createdAt: harness.clock.unixSeconds()))
        return harness
    }

    /// A password login from `address` (trusted X-Forwarded-For) on a fresh connection to `port`.
    static func login(port: Int, from address: String, password: String) throws -> TestHTTPClient.Response {
        try TestHTTPClient(port: port, timeoutSeconds: 30).request(
            "POST", "/auth/token",
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("X-Forwarded-For", address)],
            bodyBytes: TokenEndpointTests.form([
                ("grant_type", "password"), ("username", "alice"), ("password", password),
            ]))
    }

    @Test("40 addresses flooding wrong passwords: another address logs in within 3 s; the flood gets 429 at once")
    func floodDoesNotStarveLogins() throws {
        let harness = try Self.harness()
        defer { harness.shutdown() }
        let key = try GatewayAPIKeyTests.storeKey(harness, name: "l05", scopes: ["events:read"])
        let stop = Atomic<Bool>(false)
        let statuses = Mutex<[Int: Int]>([:])
        let failedAddresses = Mutex<Set<String>>([])
        let busy = Mutex<(count: Int, retryAfter: Bool, code: String?)>((0, false, nil))
        // 40 addresses, 6 concurrent clients each (240 at once), each sending wrong passwords back to back.
        let port = harness.gateway.port
        let threads = (0..<240).map { index in
            Thread {
                let address = "198.18.0.\(index % 40 + 1)"
                while !stop.load(ordering: .relaxed) {
                    guard
                        let answer = try? Self.login(port: port, from: address, password: "guess \(index)")
                    else { continue }
                    statuses.withLock { $0[answer.status, default: 0] += 1 }
                    if answer.status == 400 { _ = failedAddresses.withLock { $0.insert(address) } }
                    if answer.status == 429 {
                        busy.withLock {
                            $0.count += 1
                            $0.retryAfter = answer.header("Retry-After") == "1"
                            $0.code = answer.errorCode ?? (answer.json?["error_code"] as? String)
                        }
                    }
                }
            }
        }
        for thread in threads { thread.start() }
        defer {
            stop.store(true, ordering: .relaxed)
            while !threads.allSatisfy(\.isFinished) { usleep(10_000) }
        }
        // Until every flooding address has failed once: the steady state of a flood.
        let warmUp = Date().addingTimeInterval(20)
        while failedAddresses.withLock({ $0.count }) < 40, Date() < warmUp { usleep(20_000) }
        #expect(failedAddresses.withLock { $0.count } == 40)

        for attempt in 0..<3 {
            let started = Date()
            let login = try BruteForceTests.login(
                harness, from: "192.0.2.\(attempt + 50)", password: TokenEndpointTests.password)
            let seconds = Date().timeIntervalSince(started)
            #expect(login.status == 200, "\(login.status) \(login.text)")
            #expect(seconds < 3, "a real login took \(seconds) s during the flood")
        }
        // Store work of other grants never waits behind hashes.
        let started = Date()
        let client = try TokenEndpointTests.post(
            harness, [("grant_type", "client_credentials"), ("client_secret", key)])
        #expect(client.status == 200)
        #expect(Date().timeIntervalSince(started) < 3)

        let refused = busy.withLock { $0 }
        #expect(refused.count > 0 && refused.retryAfter && refused.code == "E9430", "\(refused)")
        #expect(statuses.withLock { $0[200, default: 0] } == 0)
    }
}
