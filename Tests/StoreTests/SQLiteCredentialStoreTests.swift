import Dispatch
import Foundation
import Store
import Synchronization
import Testing

@Suite("SQLiteCredentialStore")
struct SQLiteCredentialStoreTests {
    static func refresh(
        _ hash: String, family: String = "fam-1", jti: String, now: Int64 = 1000
    ) -> RefreshTokenRecord {
        RefreshTokenRecord(
            tokenHash: hash, familyID: family, subject: "alice", roles: ["developer"], scopes: ["events:read"],
            issuedAt: now, expiresAt: now + 3600, accessTokenID: jti, accessExpiresAt: now + 600)
    }

    @Test("users: create, conflict on a taken name, read back, change the password, disable; survives reopening")
    func users() throws {
        let directory = makeTemporaryDirectory()
        let store = try SQLiteCredentialStore(directory: directory)
        let alice = UserRecord(
            username: "alice", passwordHash: "$argon2id$x", roles: ["developer"], scopes: ["audit:read"],
            createdAt: 100)
        try store.createUser(alice)
        #expect(throws: StoreError.conflict) { try store.createUser(alice) }
        #expect(try store.user(named: "alice") == alice)
        #expect(try store.user(named: "Alice") == nil)
        #expect(try store.updatePassword(username: "alice", passwordHash: "$argon2id$y", weakPassword: true, at: 200))
        #expect(try !store.updatePassword(username: "bob", passwordHash: "h", weakPassword: false, at: 200))
        #expect(try store.setUserDisabled(username: "alice", disabled: true, at: 300))
        let reopened = try SQLiteCredentialStore(directory: directory)
        let stored = try #require(try reopened.user(named: "alice"))
        #expect(stored.passwordHash == "$argon2id$y" && stored.weakPassword && stored.disabled)
        #expect(stored.updatedAt == 300)
        #expect(try reopened.users().map(\.username) == ["alice"])
    }

    @Test("API keys: insert, rotate with a grace that never lengthens a key's life, revoke once")
    func apiKeys() throws {
        let store = try SQLiteCredentialStore(directory: makeTemporaryDirectory())
        let old = APIKeyRecord(
            id: "spk_0000000000000001", name: "l03", secretHash: "aa", roles: ["service"], scopes: ["events:read"],
            createdAt: 100, expiresAt: 10_000)
        try store.insertAPIKey(old)
        #expect(throws: StoreError.conflict) { try store.insertAPIKey(old) }
        var new = old
        new.id = "spk_0000000000000002"
        new.secretHash = "bb"
        #expect(try store.rotateAPIKey(id: old.id, replacement: new, graceUntil: 500, at: 200))
        let rotated = try #require(try store.apiKey(id: old.id))
        #expect(rotated.graceUntil == 500 && rotated.replacedBy == new.id)
        #expect(rotated.isUsable(at: 499) && !rotated.isUsable(at: 500))
        // A second rotation of the old key cannot extend its grace.
        var third = old
        third.id = "spk_0000000000000003"
        #expect(try store.rotateAPIKey(id: old.id, replacement: third, graceUntil: 9000, at: 300))
        #expect(try store.apiKey(id: old.id)?.graceUntil == 500)
        #expect(try store.revokeAPIKey(id: new.id, at: 400))
        #expect(try !store.revokeAPIKey(id: new.id, at: 401))
        #expect(try store.apiKey(id: new.id)?.isUsable(at: 402) == false)
        #expect(try store.apiKeys().map(\.id) == [old.id, new.id, third.id])
        #expect(try !store.rotateAPIKey(id: new.id, replacement: third, graceUntil: 900, at: 500))
    }

    @Test("refresh tokens rotate once; a spent one replayed revokes the family and its live access tokens")
    func refreshFamily() throws {
        let store = try SQLiteCredentialStore(directory: makeTemporaryDirectory())
        try store.insertRefreshToken(Self.refresh("h1", jti: "j1"))
        guard case .rotated(let spent) = try store.redeemRefreshToken(
            tokenHash: "h1", replacement: Self.refresh("h2", family: "ignored", jti: "j2", now: 1100), at: 1100)
        else { Issue.record("h1 did not rotate"); return }
        #expect(spent.subject == "alice" && spent.accessTokenID == "j1")
        // The replacement joined the family and kept its end.
        guard case .rotated(let second) = try store.redeemRefreshToken(
            tokenHash: "h2", replacement: Self.refresh("h3", jti: "j3", now: 1200), at: 1200)
        else { Issue.record("h2 did not rotate"); return }
        #expect(second.familyID == "fam-1" && second.expiresAt == 4600)

        // h1 again: a replay. Every token of the family is revoked, and so are j1..j3 (all still live at 1300).
        guard case .replayed(_, let revoked) = try store.redeemRefreshToken(
            tokenHash: "h1", replacement: Self.refresh("h4", jti: "j4"), at: 1300)
        else { Issue.record("replay not detected"); return }
        #expect(Set(revoked.map(\.tokenID)) == ["j1", "j2", "j3"])
        #expect(revoked.allSatisfy { $0.reason == "refresh_replay" })
        #expect(Set(try store.revokedTokens(expiringAfter: 1300).map(\.tokenID)) == ["j1", "j2", "j3"])
        // The holder of the newest token is out too.
        #expect(try store.redeemRefreshToken(tokenHash: "h3", replacement: Self.refresh("h5", jti: "j5"), at: 1301)
            == .revoked)
        #expect(try store.redeemRefreshToken(tokenHash: "nope", replacement: Self.refresh("h6", jti: "j6"), at: 1)
            == .unknown)
    }

    @Test("an expired family is refused; revoking a family by any of its tokens returns its access tokens")
    func expiryAndLogout() throws {
        let store = try SQLiteCredentialStore(directory: makeTemporaryDirectory())
        try store.insertRefreshToken(Self.refresh("h1", jti: "j1"))
        #expect(try store.redeemRefreshToken(tokenHash: "h1", replacement: Self.refresh("h2", jti: "j2"), at: 4600)
            == .expired)
        let revoked = try #require(try store.revokeRefreshFamily(tokenHash: "h1", at: 1000, reason: "logout"))
        #expect(revoked.map(\.tokenID) == ["j1"] && revoked[0].reason == "logout")
        #expect(try store.revokeRefreshFamily(tokenHash: "zzz", at: 1000, reason: "logout") == nil)
        try store.purgeExpired(before: 5000)
        #expect(try store.revokedTokens(expiringAfter: 0).isEmpty)
        #expect(try store.redeemRefreshToken(tokenHash: "h1", replacement: Self.refresh("h3", jti: "j3"), at: 1)
            == .unknown)
    }

    @Test("two concurrent redemptions of one token: exactly one rotates, the other is a replay")
    func concurrentRedemption() throws {
        let directory = makeTemporaryDirectory()
        let store = try SQLiteCredentialStore(directory: directory)
        // A second store on the same file stands for another gateway process.
        let other = try SQLiteCredentialStore(directory: directory)
        try store.insertRefreshToken(Self.refresh("h1", jti: "j1"))
        let outcomes = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            let target: SQLiteCredentialStore = index == 0 ? store : other
            let result = try? target.redeemRefreshToken(
                tokenHash: "h1", replacement: Self.refresh("r\(index)", jti: "k\(index)"), at: 1100)
            let label =
                switch result {
                case .rotated?: "rotated"
                case .replayed?: "replayed"
                default: "other"
                }
            outcomes.withLock { $0.append(label) }
        }
        #expect(outcomes.withLock { $0.sorted() } == ["replayed", "rotated"])
    }
}
