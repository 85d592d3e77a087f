import Dispatch
import Foundation
import Store
import Synchronization
import Testing

/// The `CredentialStore` contract, run against SQLite and PostgreSQL alike.
@Suite("CredentialStore contract (SQLite and PostgreSQL)")
struct CredentialStoreContractTests {
    static func refresh(
        _ hash: String, family: String = "fam-1", jti: String, now: Int64 = 1000
    ) -> RefreshTokenRecord {
        RefreshTokenRecord(
            tokenHash: hash, familyID: family, subject: "alice", roles: ["developer"], scopes: ["events:read"],
            issuedAt: now, expiresAt: now + 3600, accessTokenID: jti, accessExpiresAt: now + 600)
    }

    @Test(
        "users: create, conflict on a taken name, read back, change the password, disable; survives reopening",
        arguments: StoreKind.allCases)
    func users(kind: StoreKind) throws {
        let fixture = try CredentialStoreFixture(kind)
        let store = fixture.store
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
        let reopened = try fixture.reopen()
        let stored = try #require(try reopened.user(named: "alice"))
        #expect(stored.passwordHash == "$argon2id$y" && stored.weakPassword && stored.disabled)
        #expect(stored.updatedAt == 300)
        #expect(try reopened.users().map(\.username) == ["alice"])
        // Names are exact and ordered bytewise, whatever the database's collation.
        try store.createUser(UserRecord(username: "Bob", passwordHash: "h", roles: [], createdAt: 1))
        try store.createUser(UserRecord(username: "alice.b", passwordHash: "h", roles: [], createdAt: 1))
        #expect(try reopened.users().map(\.username) == ["Bob", "alice", "alice.b"])
        #expect(try store.user(named: "Bob")?.roles == [])
    }

    @Test(
        "API keys: insert, rotate with a grace that never lengthens a key's life, revoke once",
        arguments: StoreKind.allCases)
    func apiKeys(kind: StoreKind) throws {
        let fixture = try CredentialStoreFixture(kind)
        let store = fixture.store
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
        #expect(rotated.graceUntil == 500 && rotated.replacedBy == new.id && rotated.expiresAt == 10_000)
        #expect(rotated.revokedAt == nil && rotated.roles == ["service"] && rotated.scopes == ["events:read"])
        #expect(try store.apiKey(id: new.id) == new)
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

    @Test(
        "refresh tokens rotate once; a spent one replayed revokes the family and its live access tokens",
        arguments: StoreKind.allCases)
    func refreshFamily(kind: StoreKind) throws {
        let fixture = try CredentialStoreFixture(kind)
        let store = fixture.store
        try store.insertRefreshToken(Self.refresh("h1", jti: "j1"))
        guard
            case .rotated(let spent) = try store.redeemRefreshToken(
                tokenHash: "h1", replacement: Self.refresh("h2", family: "ignored", jti: "j2", now: 1100), at: 1100)
        else { Issue.record("h1 did not rotate"); return }
        #expect(spent.subject == "alice" && spent.accessTokenID == "j1")
        // The replacement joined the family and kept its end.
        guard
            case .rotated(let second) = try store.redeemRefreshToken(
                tokenHash: "h2", replacement: Self.refresh("h3", jti: "j3", now: 1200), at: 1200)
        else { Issue.record("h2 did not rotate"); return }
        #expect(second.familyID == "fam-1" && second.expiresAt == 4600)

        // h1 again: a replay. Every token of the family is revoked, and so are j1..j3 (all still live at 1300).
        guard
            case .replayed(_, let revoked) = try store.redeemRefreshToken(
                tokenHash: "h1", replacement: Self.refresh("h4", jti: "j4"), at: 1300)
        else { Issue.record("replay not detected"); return }
        #expect(Set(revoked.map(\.tokenID)) == ["j1", "j2", "j3"])
        #expect(revoked.allSatisfy { $0.reason == "refresh_replay" })
        #expect(Set(try store.revokedTokens(expiringAfter: 1300).map(\.tokenID)) == ["j1", "j2", "j3"])
        // The holder of the newest token is out too.
        #expect(
            try store.redeemRefreshToken(tokenHash: "h3", replacement: Self.refresh("h5", jti: "j5"), at: 1301)
                == .revoked)
        #expect(
            try store.redeemRefreshToken(tokenHash: "nope", replacement: Self.refresh("h6", jti: "j6"), at: 1)
                == .unknown)
    }

    @Test(
        "an expired family is refused; revoking a family by any of its tokens returns its access tokens",
        arguments: StoreKind.allCases)
    func expiryAndLogout(kind: StoreKind) throws {
        let fixture = try CredentialStoreFixture(kind)
        let store = fixture.store
        try store.insertRefreshToken(Self.refresh("h1", jti: "j1"))
        #expect(
            try store.redeemRefreshToken(tokenHash: "h1", replacement: Self.refresh("h2", jti: "j2"), at: 4600)
                == .expired)
        let revoked = try #require(try store.revokeRefreshFamily(tokenHash: "h1", at: 1000, reason: "logout"))
        #expect(revoked.map(\.tokenID) == ["j1"] && revoked[0].reason == "logout")
        #expect(try store.revokeRefreshFamily(tokenHash: "zzz", at: 1000, reason: "logout") == nil)
        #expect(
            try store.purgeExpired(at: 5000, leewaySeconds: 60) == PurgedCredentials(refreshTokens: 1, revocations: 1))
        #expect(try store.revokedTokens(expiringAfter: 0).isEmpty)
        #expect(
            try store.redeemRefreshToken(tokenHash: "h1", replacement: Self.refresh("h3", jti: "j3"), at: 1)
                == .unknown)
    }

    @Test(
        "a purge keeps a revocation until its token's exp plus the leeway has passed, and counts what it deleted",
        arguments: StoreKind.allCases)
    func purgeRevocations(kind: StoreKind) throws {
        let fixture = try CredentialStoreFixture(kind)
        let store = fixture.store
        let now: Int64 = 1_700_000_000
        // Seconds past exp: with a 60 s leeway a token 30 s past it is still accepted, one 60 s past it no more.
        for (jti, age) in [("past-61", 61), ("past-60", 60), ("past-30", 30), ("live", -600)] as [(String, Int64)] {
            try store.revokeToken(RevokedToken(tokenID: jti, expiresAt: now - age, revokedAt: now - 900, reason: "x"))
        }
        #expect(
            try store.purgeExpired(at: now, leewaySeconds: 60) == PurgedCredentials(refreshTokens: 0, revocations: 2))
        #expect(Set(try store.revokedTokens(expiringAfter: 0).map(\.tokenID)) == ["past-30", "live"])
        #expect(
            try store.purgeExpired(at: now, leewaySeconds: 60) == PurgedCredentials(refreshTokens: 0, revocations: 0))
        // Another 31 s and the one 30 s past exp is out of the leeway too; a smaller leeway purges sooner.
        #expect(try store.purgeExpired(at: now + 31, leewaySeconds: 60).revocations == 1)
        #expect(try store.purgeExpired(at: now + 600, leewaySeconds: 0).revocations == 1)
        #expect(try fixture.reopen().revokedTokens(expiringAfter: 0).isEmpty)
    }

    @Test(
        "a purge deletes a refresh family once it ended and its access tokens died; before, a replay still revokes",
        arguments: StoreKind.allCases)
    func purgeRefreshFamilies(kind: StoreKind) throws {
        let fixture = try CredentialStoreFixture(kind)
        let store = fixture.store
        let now: Int64 = 1_700_000_000
        func token(_ hash: String, _ family: String, expiresAt: Int64, accessExpiresAt: Int64) -> RefreshTokenRecord {
            RefreshTokenRecord(
                tokenHash: hash, familyID: family, subject: "alice", roles: [], scopes: [], issuedAt: now - 7200,
                expiresAt: expiresAt, accessTokenID: "j-" + hash, accessExpiresAt: accessExpiresAt)
        }
        func rotates(_ hash: String, into replacement: RefreshTokenRecord, at time: Int64) throws -> Bool {
            guard case .rotated = try store.redeemRefreshToken(tokenHash: hash, replacement: replacement, at: time)
            else { return false }
            return true
        }
        // "dead" ended 10 s ago, its access tokens long expired: both its tokens go.
        try store.insertRefreshToken(token("d1", "dead", expiresAt: now - 10, accessExpiresAt: now - 3600))
        let d2 = token("d2", "dead", expiresAt: 0, accessExpiresAt: now - 2400)
        #expect(try rotates("d1", into: d2, at: now - 3000))
        // "tail" ended too, but the access token of its last rotation lives 300 s more: the family stays.
        try store.insertRefreshToken(token("t1", "tail", expiresAt: now - 10, accessExpiresAt: now - 400))
        let t2 = token("t2", "tail", expiresAt: 0, accessExpiresAt: now + 300)
        #expect(try rotates("t1", into: t2, at: now - 300))
        // "open" has not ended: it stays whatever its access tokens.
        try store.insertRefreshToken(token("o1", "open", expiresAt: now + 3600, accessExpiresAt: now - 3000))

        #expect(
            try store.purgeExpired(at: now, leewaySeconds: 60) == PurgedCredentials(refreshTokens: 2, revocations: 0))
        let next = token("x", "x", expiresAt: 0, accessExpiresAt: now + 600)
        #expect(try store.redeemRefreshToken(tokenHash: "d1", replacement: next, at: now) == .unknown)
        // The spent t1 replayed: the family is still known, so the live access token is revoked.
        guard case .replayed(_, let revoked) = try store.redeemRefreshToken(tokenHash: "t1", replacement: next, at: now)
        else { Issue.record("the replay of t1 was not detected"); return }
        #expect(revoked.map(\.tokenID) == ["j-t2"])

        // 360 s on, t2's access token is exp plus the leeway behind: the family and its revocation go.
        let later = now + 360
        #expect(
            try store.purgeExpired(at: later, leewaySeconds: 60) == PurgedCredentials(refreshTokens: 2, revocations: 1))
        #expect(try store.redeemRefreshToken(tokenHash: "t2", replacement: next, at: later) == .unknown)
        #expect(try rotates("o1", into: next, at: later), "the open family was purged")
    }

    @Test(
        "two gateways racing on one refresh token: in every round exactly one rotates, the other is a replay",
        arguments: StoreKind.allCases)
    func concurrentRedemption(kind: StoreKind) throws {
        let fixture = try CredentialStoreFixture(kind)
        // A second store with connections of its own stands for another gateway process.
        let gateways = [fixture.store, try fixture.reopen()]
        for round in 0..<20 {
            try gateways[0].insertRefreshToken(Self.refresh("h\(round)", family: "fam-\(round)", jti: "j\(round)"))
            let outcomes = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 2) { index in
                let result = try? gateways[index].redeemRefreshToken(
                    tokenHash: "h\(round)", replacement: Self.refresh("r\(round)-\(index)", jti: "k\(round)-\(index)"),
                    at: 1100)
                let label =
                    switch result {
                    case .rotated?: "rotated"
                    case .replayed?: "replayed"
                    default: "other"
                    }
                outcomes.withLock { $0.append(label) }
            }
            #expect(outcomes.withLock { $0.sorted() } == ["replayed", "rotated"], "round \(round)")
        }
        // Every replay revoked its family: the winners' replacements are dead too.
        for round in 0..<20 {
            let outcomes = try (0..<2).map { index in
                try gateways[1].redeemRefreshToken(
                    tokenHash: "r\(round)-\(index)", replacement: Self.refresh("x", jti: "x"), at: 1200)
            }
            #expect(outcomes.sorted { "\($0)" < "\($1)" } == [.revoked, .unknown], "round \(round)")
        }
    }

    @Test(
        "two gateways replaying different spent tokens of one family at once: one replay, one revoked, no error",
        arguments: StoreKind.allCases)
    func concurrentReplays(kind: StoreKind) throws {
        let fixture = try CredentialStoreFixture(kind)
        let gateways = [fixture.store, try fixture.reopen()]
        for round in 0..<20 {
            // h-a and h-b spent, h-c active: a family a thief and its owner both hold.
            let family = "fam-\(round)"
            try gateways[0].insertRefreshToken(Self.refresh("a\(round)", family: family, jti: "ja\(round)"))
            _ = try gateways[0].redeemRefreshToken(
                tokenHash: "a\(round)", replacement: Self.refresh("b\(round)", jti: "jb\(round)"), at: 1100)
            _ = try gateways[0].redeemRefreshToken(
                tokenHash: "b\(round)", replacement: Self.refresh("c\(round)", jti: "jc\(round)"), at: 1100)
            let outcomes = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 2) { index in
                let label: String
                do {
                    let result = try gateways[index].redeemRefreshToken(
                        tokenHash: (index == 0 ? "a" : "b") + "\(round)",
                        replacement: Self.refresh("x\(round)-\(index)", jti: "x"), at: 1200)
                    switch result {
                    case .replayed: label = "replayed"
                    case .revoked: label = "revoked"
                    default: label = "\(result)"
                    }
                } catch {
                    label = "\(error)"
                }
                outcomes.withLock { $0.append(label) }
            }
            // The first revokes the family; the second then finds its token revoked.
            #expect(outcomes.withLock { $0.sorted() } == ["replayed", "revoked"], "round \(round)")
            #expect(
                try gateways[1].redeemRefreshToken(
                    tokenHash: "c\(round)", replacement: Self.refresh("y", jti: "y"), at: 1201) == .revoked)
        }
    }

    @Test("a NUL byte in a value is refused, never cut short", arguments: StoreKind.allCases)
    func nulByte(kind: StoreKind) throws {
        let fixture = try CredentialStoreFixture(kind)
        let user = UserRecord(username: "eve\u{0}admin", passwordHash: "h", roles: [], createdAt: 1)
        #expect { try fixture.store.createUser(user) } throws: { ($0 as? StoreError)?.isInvalidInput == true }
        #expect(try fixture.store.users().isEmpty)
    }
}
