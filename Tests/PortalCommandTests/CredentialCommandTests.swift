import Foundation
import Synchronization
import Testing

/// `portal user` and `portal key` against the real binary, and what `portal serve` does with their results.
@Suite("portal user and portal key")
struct CredentialCommandTests {
    @Test("users: added from stdin (never argv), listed without hashes, passwd, disable; weak ones warn in development")
    func users() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let env = PortalProcess.baseEnvironment(dataDirectory: dir)
        let added = try PortalProcess.run(
            ["user", "add", "alice", "--roles", "developer"], environment: env, in: dir,
            stdin: "a long enough passphrase\n")
        #expect(added.status == 0, "\(added.stderr)")
        #expect(!added.stdout.contains("passphrase") && !added.stderr.contains("passphrase"))
        let again = try PortalProcess.run(
            ["user", "add", "alice"], environment: env, in: dir, stdin: "another one!!!\n")
        #expect(again.status == 2 && again.stderr.contains("exists"))
        let weak = try PortalProcess.run(
            ["user", "add", "admin", "--roles", "admin"], environment: env, in: dir, stdin: "admin\n")
        #expect(weak.status == 0 && weak.stderr.contains("warning: the password equals the user name"))
        let unknownRole = try PortalProcess.run(
            ["user", "add", "bob", "--roles", "wizard"], environment: env, in: dir, stdin: "a long enough passphrase\n")
        #expect(unknownRole.status == 2 && unknownRole.stderr.contains("unknown role wizard"))
        let passwd = try PortalProcess.run(
            ["user", "passwd", "alice"], environment: env, in: dir, stdin: "a new long passphrase\n")
        #expect(passwd.status == 0)
        #expect(try PortalProcess.run(["user", "disable", "alice"], environment: env, in: dir).status == 0)
        let listed = try PortalProcess.run(["user", "list"], environment: env, in: dir)
        #expect(listed.stdout.contains("alice roles=developer (disabled)"))
        #expect(listed.stdout.contains("admin roles=admin (active, weak password)"))
        #expect(!listed.stdout.contains("argon2"))
        let production = try PortalProcess.run(
            ["user", "add", "carol"], environment: env.merging(["PORTAL_ENV": "production"]) { $1 }, in: dir,
            stdin: "short\n")
        #expect(production.status != 0)
    }

    @Test("production refuses to start while admin/admin exists, in one line naming the account")
    func productionRefusesAdminAdmin() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let env = PortalProcess.baseEnvironment(dataDirectory: dir)
        let added = try PortalProcess.run(
            ["user", "add", "admin", "--roles", "admin"], environment: env, in: dir, stdin: "admin\n")
        #expect(added.status == 0)
        var production = env
        production["PORTAL_ENV"] = "production"
        production["JWT_SECRET"] = "a-production-secret-of-at-least-32-bytes!"
        production["CREDENTIAL_HMAC_KEY"] = "a-production-credential-key-of-32-bytes!"
        production["AUDIT_LOG_ENABLED"] = "false"
        production["PORTAL_MASTER_KEY"] = "a-production-master-key-of-32-bytes-or-more"
        let refused = try PortalProcess.run(["serve"], environment: production, in: dir)
        #expect(refused.status != 0)
        #expect(refused.stderrLines.count == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("admin has a weak or default password"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("argon2"))
        // Once the password is strong, production starts.
        let strong = try PortalProcess.run(
            ["user", "passwd", "admin"], environment: env, in: dir, stdin: "9c2f-long-and-random-pass\n")
        #expect(strong.status == 0)
        let portal = try RunningPortal(
            environment: production, directory: dir, expectedListeners: ["gateway", "admin", "data layer"])
        #expect(portal.terminate() == 0)
    }

    @Test("a key made by the CLI works at once against a running portal; rotation fails no request in its grace")
    func keyRotationWithoutFailures() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // The per-address limit is not what this test is about.
        let env = PortalProcess.baseEnvironment(dataDirectory: dir).merging(
            ["RATE_LIMIT_REQUESTS_PER_MINUTE": "100000", "RATE_LIMIT_BURST": "10000"]) { $1 }
        let portal = try RunningPortal(
            environment: env, directory: dir, expectedListeners: ["gateway", "admin", "data layer"])
        defer { _ = portal.terminate() }
        let url = "http://127.0.0.1:\(try #require(portal.ports["gateway"]))/api/v1/events"

        let created = try PortalProcess.run(
            ["key", "create", "--name", "l03", "--expires", "90d"], environment: env, in: dir)
        #expect(created.status == 0, "\(created.stderr)")
        let key = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(key.hasPrefix("spk_") && key.count == 64 && created.stderr.contains("not shown again"))
        #expect(try Curl.request(["-H", "X-API-Key: \(key)", url]).status == 200)

        // Requests with the old key keep going while the key is rotated.
        let statuses = Mutex<[Int]>([])
        let stop = Atomic<Bool>(false)
        let worker = Thread {
            while !stop.load(ordering: .relaxed) {
                let status = (try? Curl.request(["-H", "X-API-Key: \(key)", url]).status) ?? -1
                statuses.withLock { $0.append(status) }
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
        worker.start()
        let rotated = try PortalProcess.run(["key", "rotate", "l03", "--grace", "1h"], environment: env, in: dir)
        #expect(rotated.status == 0, "\(rotated.stderr)")
        let newKey = rotated.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(newKey.hasPrefix("spk_") && newKey != key)
        for _ in 0..<5 { #expect(try Curl.request(["-H", "X-API-Key: \(newKey)", url]).status == 200) }
        // Past the cache refresh, the old key still works: it is in its grace period.
        Thread.sleep(forTimeInterval: 1.5)
        stop.store(true, ordering: .relaxed)
        while !worker.isFinished { Thread.sleep(forTimeInterval: 0.01) }
        let seen = statuses.withLock { $0 }
        #expect(seen.count >= 3 && seen.allSatisfy { $0 == 200 }, "\(seen)")

        let listed = try PortalProcess.run(["key", "list"], environment: env, in: dir)
        #expect(listed.stdout.contains("rotated, works until") && !listed.stdout.contains(String(key.suffix(43))))
        #expect(
            try PortalProcess.run(["key", "revoke", String(key.prefix(20))], environment: env, in: dir).status == 0)
        // The running portal drops the revoked key within its refresh interval (1 s by default).
        var refused = false
        for _ in 0..<50 where !refused {
            refused = try Curl.request(["-H", "X-API-Key: \(key)", url]).status == 401
            if !refused { Thread.sleep(forTimeInterval: 0.1) }
        }
        #expect(refused)
        #expect(try Curl.request(["-H", "X-API-Key: \(newKey)", url]).status == 200)
    }
}

extension CredentialCommandTests {
    /// The permission bits of `path`, or nil when it does not exist.
    static func mode(_ path: String) -> Int? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        return (attributes[.posixPermissions] as? NSNumber)?.intValue
    }

    @Test("CLI commands create the store 0600 (with its -wal and -shm) and a data directory 0700; an open one warns")
    func fileModes() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // The bug showed under the usual umask: the child inherits this process's.
        let previous = umask(0o022)
        defer { umask(previous) }

        // An existing directory the operator left 0755: kept as it is, one warning, files inside 0600.
        let open = dir.appendingPathComponent("d").path
        try FileManager.default.createDirectory(atPath: open, withIntermediateDirectories: false)
        chmod(open, 0o755)
        let env = PortalProcess.baseEnvironment(dataDirectory: URL(fileURLWithPath: open))
        let added = try PortalProcess.run(
            ["user", "add", "alice"], environment: env, in: dir, stdin: "a long enough passphrase\n")
        #expect(added.status == 0, "\(added.stderr)")
        let warnings = added.stderr.split(separator: "\n").filter { $0.contains("open to group or others") }
        #expect(warnings.count == 1, "\(added.stderr)")
        #expect(Self.mode(open) == 0o755)
        #expect(Self.mode(open + "/credentials.db") == 0o600)
        // While `portal serve` holds the stores open, their -wal and -shm files exist: all 0600 as well.
        let server = try RunningPortal(
            environment: env, directory: dir, expectedListeners: ["gateway", "admin", "data layer"])
        defer { _ = server.terminate() }
        let names = try FileManager.default.contentsOfDirectory(atPath: open)
        #expect(names.contains("credentials.db-wal") && names.contains("credentials.db-shm"), "\(names)")
        for name in names {
            #expect(
                Self.mode(open + "/" + name) == 0o600, "\(name): \(String(Self.mode(open + "/" + name) ?? 0, radix: 8))"
            )
        }

        // A directory the command creates is 0700, and nothing warns.
        let fresh = dir.appendingPathComponent("fresh").path
        let created = try PortalProcess.run(
            ["user", "add", "bob"],
            environment: PortalProcess.baseEnvironment(dataDirectory: URL(fileURLWithPath: fresh)),
            in: dir, stdin: "a long enough passphrase\n")
        #expect(created.status == 0, "\(created.stderr)")
        #expect(!created.stderr.contains("open to group"))
        #expect(Self.mode(fresh) == 0o700)
        for name in try FileManager.default.contentsOfDirectory(atPath: fresh) {
            #expect(Self.mode(fresh + "/" + name) == 0o600, "\(name)")
        }
    }
}
