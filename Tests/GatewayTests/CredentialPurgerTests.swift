import Foundation
import Gateway
import PortalCore
import Store
import Synchronization
import Telemetry
import Testing

/// `CredentialPurger`: what a run deletes, logs and counts; runs on schedule that survive a failing store; and a
/// revoked token refused through the leeway and after its revocation is gone.
@Suite("Credential purges")
struct CredentialPurgerTests {
    /// A credential store whose purges fail while `failuresLeft` lasts, recording each call's arguments. Nothing
    /// else of it works.
    final class ScriptedPurgeStore: CredentialStore {
        struct Failure: Error {}

        let failuresLeft: Atomic<Int>
        let calls = Mutex<[(now: Int64, leeway: Int64)]>([])

        init(failures: Int) { failuresLeft = Atomic(failures) }

        var callCount: Int { calls.withLock { $0.count } }

        func purgeExpired(at now: Int64, leewaySeconds: Int64) throws -> PurgedCredentials {
            calls.withLock { $0.append((now, leewaySeconds)) }
            if failuresLeft.load(ordering: .relaxed) > 0 {
                failuresLeft.subtract(1, ordering: .relaxed)
                throw Failure()
            }
            return PurgedCredentials(refreshTokens: 2, revocations: 3)
        }

        private static let unused = Failure()
        func createUser(_ user: UserRecord) throws { throw Self.unused }
        func user(named username: String) throws -> UserRecord? { throw Self.unused }
        func users() throws -> [UserRecord] { throw Self.unused }
        func updatePassword(username: String, passwordHash: String, weakPassword: Bool, at now: Int64) throws
            -> Bool
        { throw Self.unused }
        func setUserDisabled(username: String, disabled: Bool, at now: Int64) throws -> Bool { throw Self.unused }
        func insertAPIKey(_ key: APIKeyRecord) throws { throw Self.unused }
        func apiKey(id: String) throws -> APIKeyRecord? { throw Self.unused }
        func apiKeys() throws -> [APIKeyRecord] { throw Self.unused }
        func rotateAPIKey(id: String, replacement: APIKeyRecord, graceUntil: Int64, at now: Int64) throws -> Bool {
            throw Self.unused
        }
        func revokeAPIKey(id: String, at now: Int64) throws -> Bool { throw Self.unused }
        func insertRefreshToken(_ token: RefreshTokenRecord) throws { throw Self.unused }
        func redeemRefreshToken(tokenHash: String, replacement: RefreshTokenRecord, at now: Int64) throws
            -> RefreshRedemption
        { throw Self.unused }
        func revokeRefreshFamily(tokenHash: String, at now: Int64, reason: String) throws -> [RevokedToken]? {
            throw Self.unused
        }
        func revokeToken(_ token: RevokedToken) throws { throw Self.unused }
        func revokedTokens(expiringAfter now: Int64) throws -> [RevokedToken] { throw Self.unused }
        func ping() throws { throw Self.unused }
    }

    /// The JSON log lines written to `sink`.
    static func logLines(_ sink: MemoryLogSink) -> [[String: Any]] {
        sink.lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    @Test("a run deletes what the clock and the leeway say has expired, logs the counts once and counts by kind")
    func runOnce() throws {
        let directory = NSTemporaryDirectory() + "credential-purge-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteCredentialStore(directory: directory)
        let clock = ManualClock()
        let now = clock.unixSeconds()
        for (jti, expiresAt) in [("gone", now - 61), ("in-leeway", now - 30), ("live", now + 600)] {
            try store.revokeToken(RevokedToken(tokenID: jti, expiresAt: expiresAt, revokedAt: now - 900, reason: "x"))
        }
        for (hash, expiresAt) in [("ended", now - 10), ("open", now + 3600)] {
            try store.insertRefreshToken(
                RefreshTokenRecord(
                    tokenHash: hash, familyID: hash, subject: "alice", roles: [], scopes: [], issuedAt: now - 7200,
                    expiresAt: expiresAt, accessTokenID: "j-" + hash, accessExpiresAt: now - 3600))
        }
        let sink = MemoryLogSink()
        let registry = MetricsRegistry()
        let purger = CredentialPurger(
            store: store, intervalSeconds: 3600, leewaySeconds: 60, clock: clock,
            logger: Logger(level: .info, sink: sink), registry: registry)

        #expect(purger.runOnce() == PurgedCredentials(refreshTokens: 1, revocations: 1))
        #expect(Set(try store.revokedTokens(expiringAfter: 0).map(\.tokenID)) == ["in-leeway", "live"])
        let lines = Self.logLines(sink)
        #expect(lines.count == 1)
        #expect(lines.first?["message"] as? String == "credentials.purged")
        #expect(lines.first?["level"] as? String == "info")
        #expect(lines.first?["purged.refresh"] as? Int == 1 && lines.first?["purged.revocations"] as? Int == 1)
        let exposition = registry.exposition()
        #expect(exposition.contains(#"credentials_purged_total{kind="refresh_token"} 1"#), "\(exposition)")
        #expect(exposition.contains(#"credentials_purged_total{kind="revocation"} 1"#), "\(exposition)")
        // Nothing is left to delete a second time.
        #expect(purger.runOnce() == PurgedCredentials(refreshTokens: 0, revocations: 0))
    }

    @Test("runs come shortly after start, then every interval; a failure is a warning, and the next run retries")
    func scheduled() throws {
        let store = ScriptedPurgeStore(failures: 1)
        let clock = ManualClock(unixSeconds: 5000)
        let sink = MemoryLogSink()
        let registry = MetricsRegistry()
        let purger = CredentialPurger(
            store: store, intervalSeconds: 0.05, leewaySeconds: 45, clock: clock,
            logger: Logger(level: .info, sink: sink), registry: registry)
        purger.start(firstDelaySeconds: 0.01)
        let deadline = Date().addingTimeInterval(10)
        while store.callCount < 3 && Date() < deadline { usleep(10_000) }
        purger.stop()
        // A run under way when stopped still finishes; none starts after it.
        usleep(100_000)
        let stoppedAt = store.callCount
        usleep(200_000)
        #expect(store.callCount == stoppedAt)

        #expect(stoppedAt >= 3)
        #expect(store.calls.withLock { $0 }.allSatisfy { $0.now == 5000 && $0.leeway == 45 })
        let lines = Self.logLines(sink)
        #expect(lines.first?["message"] as? String == "credentials.purge_failed")
        #expect(lines.first?["level"] as? String == "warning")
        #expect(lines.dropFirst().allSatisfy { $0["message"] as? String == "credentials.purged" })
        let exposition = registry.exposition()
        #expect(exposition.contains("credential_purge_errors_total 1"), "\(exposition)")
        let revocations = #"credentials_purged_total{kind="revocation"} \#(3 * (stoppedAt - 1))"#
        #expect(exposition.contains(revocations), "\(exposition)")
    }

    @Test("a revoked token stays refused within the leeway past its exp, and once purged is refused as expired")
    func revokedThenPurged() throws {
        let harness = try TokenEndpointTests.harness()
        defer { harness.shutdown() }
        let credentials = try #require(harness.credentials)
        let purger = CredentialPurger(
            store: credentials.store, intervalSeconds: 3600, leewaySeconds: 60, clock: harness.clock,
            logger: Logger(level: .error, sink: MemoryLogSink()))
        let login = try TokenEndpointTests.login(harness)
        let access = try #require(login.json?["access_token"] as? String)
        let lifetime = try #require(login.json?["expires_in"] as? Int)
        #expect(try TokenEndpointTests.post(harness, [("token", access)], path: "/auth/revoke").status == 200)
        // Wait for the revocation to be durable (it is written on the cache's queue).
        let deadline = Date().addingTimeInterval(5)
        while try credentials.store.revokedTokens(expiringAfter: 0).isEmpty && Date() < deadline { usleep(10_000) }

        // 30 s past exp the verifier still accepts the token: the revocation, re-read from the store, refuses it.
        harness.clock.advance(seconds: Double(lifetime + 30))
        try credentials.refresh()
        #expect(purger.runOnce() == PurgedCredentials(refreshTokens: 0, revocations: 0))
        let withinLeeway = try harness.send("GET", "/api/v1/events", headers: [("Authorization", "Bearer \(access)")])
        #expect(withinLeeway.status == 401 && withinLeeway.text.contains("E9106"), "\(withinLeeway.text)")

        // 61 s past exp the revocation goes, and the token is refused as expired.
        harness.clock.advance(seconds: 31)
        #expect(purger.runOnce() == PurgedCredentials(refreshTokens: 0, revocations: 1))
        try credentials.refresh()
        #expect(try credentials.store.revokedTokens(expiringAfter: 0).isEmpty)
        let purged = try harness.send("GET", "/api/v1/events", headers: [("Authorization", "Bearer \(access)")])
        #expect(purged.status == 401 && purged.text.contains("E9102"), "\(purged.text)")
    }
}
