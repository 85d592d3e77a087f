import Foundation
import Net
import RESP
import Redis
import RedisTestSupport
import Testing

/// The client against a real redis-server configured as the guide's redis.conf.
@Suite("Redis client")
struct RedisClientTests {
    @Test("with the password, commands round-trip; the guide's renamed commands are gone")
    func roundTrip() throws {
        let server = try RedisServer()
        let fixture = try RedisFixture(server: server)
        defer { fixture.shutdown() }

        #expect(fixture.run(["SET", "portal:k", "v\r\n1"]).value == .simpleString("OK"))
        #expect(fixture.run(["GET", "portal:k"]).value == .bulkString(Array("v\r\n1".utf8)))
        #expect(fixture.run(["GET", "portal:absent"]).value == .null)
        #expect(try server.cli(["GET", "portal:k"]) == "v\r\n1")
        for renamed in ["FLUSHDB", "FLUSHALL", "CONFIG"] {
            let error = fixture.run([renamed]).error
            #expect(error?.kind == .errorReply && error?.code == "ERR", "\(renamed) should be unknown")
        }
    }

    @Test("a thousand pipelined commands get their own replies, in order")
    func pipelining() throws {
        let server = try RedisServer()
        let fixture = try RedisFixture(server: server)
        defer { fixture.shutdown() }

        let results = fixture.pipeline(Array(repeating: ["INCR", "portal:counter"], count: 1000))

        #expect(results.map(\.value) == (1...1000).map { .integer(Int64($0)) })
    }

    @Test("a wrong password is refused with WRONGPASS, and no error text carries the password")
    func wrongPassword() throws {
        let server = try RedisServer()
        let fixture = try RedisFixture(server: server, password: "not-the-password-4711")
        defer { fixture.shutdown() }

        let error = try #require(fixture.run(["PING"]).error)

        #expect(error.kind == .authenticationFailed)
        #expect(error.code == "WRONGPASS")
        #expect(!error.description.contains("4711") && !String(reflecting: error).contains("4711"))
        #expect(!"\(fixture.client.configuration)".contains("4711"))
    }

    @Test("without a password the server answers NOAUTH")
    func missingPassword() throws {
        let server = try RedisServer()
        let fixture = try RedisFixture(RedisConfiguration(host: "127.0.0.1", port: server.port))
        defer { fixture.shutdown() }

        let error = try #require(fixture.run(["PING"]).error)

        #expect(error.kind == .errorReply && error.code == "NOAUTH")
    }

    @Test("an ACL user authenticates with user and password; the wrong user password is refused")
    func aclUser() throws {
        let server = try RedisServer()
        _ = try server.cli(["ACL", "SETUSER", "limiter", "on", ">limiter-pass-1", "~portal:*", "+@all"])
        let good = try RedisFixture(
            RedisConfiguration(
                host: "127.0.0.1", port: server.port, username: "limiter", password: RedisPassword("limiter-pass-1")))
        let bad = try RedisFixture(
            RedisConfiguration(
                host: "127.0.0.1", port: server.port, username: "limiter", password: RedisPassword("wrong-pass")))
        defer {
            good.shutdown()
            bad.shutdown()
        }

        #expect(good.run(["SET", "portal:acl", "1"]).value == .simpleString("OK"))
        // The ACL limits the user to portal:* keys: proof that AUTH named the user, not the default one.
        #expect(good.run(["SET", "other:acl", "1"]).error?.code == "NOPERM")
        #expect(bad.run(["PING"]).error?.code == "WRONGPASS")
    }

    @Test("SELECT puts the connection's keys in the configured database")
    func selectDatabase() throws {
        let server = try RedisServer()
        let fixture = try RedisFixture(server: server, database: 3)
        defer { fixture.shutdown() }

        #expect(fixture.run(["SET", "portal:db", "three"]).value == .simpleString("OK"))

        #expect(try server.cli(["-n", "3", "GET", "portal:db"]) == "three")
        #expect(try server.cli(["-n", "0", "EXISTS", "portal:db"]) == "0")
    }

    @Test("an error reply keeps Redis's code and drops the echoed arguments")
    func errorReply() throws {
        let server = try RedisServer()
        let fixture = try RedisFixture(server: server)
        defer { fixture.shutdown() }

        let error = try #require(fixture.run(["NOSUCHCOMMAND", "secret-argument"]).error)

        #expect(error.kind == .errorReply && error.code == "ERR")
        #expect(!error.description.contains("secret-argument"))
        // The connection stays usable after an error reply.
        #expect(fixture.run(["PING"]).value == .simpleString("PONG"))
    }
}

/// The `redis.conf` shipped in deploy/ runs with the Debian redis-server and holds the guide's hardening.
@Suite("deploy/redis/redis.conf")
struct DeployRedisConfigTests {
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("deploy/redis/redis.conf").path

    @Test("redis-server starts on it; AUTH is required; FLUSHDB, FLUSHALL and CONFIG are gone; keys expire first")
    func hardened() throws {
        let server = try RedisServer(baseFile: Self.file)
        let anonymous = try RedisFixture(RedisConfiguration(host: "127.0.0.1", port: server.port))
        let fixture = try RedisFixture(server: server)
        defer {
            anonymous.shutdown()
            fixture.shutdown()
        }

        #expect(anonymous.run(["PING"]).error?.code == "NOAUTH")
        #expect(fixture.run(["PING"]).value == .simpleString("PONG"))
        for renamed in ["FLUSHDB", "FLUSHALL", "CONFIG"] {
            #expect(fixture.run([renamed, "GET", "x"]).error?.code == "ERR", "\(renamed)")
        }
        let info = fixture.run(["INFO", "memory"]).value?.stringValue ?? ""
        #expect(info.contains("maxmemory_policy:volatile-ttl"))
        #expect(try server.cli(["INFO", "clients"]).contains("maxclients:1000"))
    }
}
