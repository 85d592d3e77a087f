import Foundation
import Net
import RESP
import Redis
import RedisTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Stopped, frozen and silent servers: every command ends, within its timeout, and the client comes back.
@Suite("Redis client failures")
struct RedisFailureTests {
    @Test("a stopped server fails commands at once, the backoff refuses without I/O, and a restart is picked up")
    func stopAndRestart() throws {
        let server = try RedisServer()
        let fixture = try RedisFixture(server: server)
        defer { fixture.shutdown() }
        #expect(fixture.run(["PING"]).value == .simpleString("PONG"))

        server.stop()
        let first = try #require(fixture.run(["PING"]).error)
        let second = try #require(fixture.run(["PING"]).error)
        #expect([.connectionLost, .connectFailed].contains(first.kind), "\(first)")
        #expect([.unavailable, .connectFailed].contains(second.kind), "\(second)")

        try server.start()
        #expect(eventually(within: 10) { fixture.run(["PING"]).value == .simpleString("PONG") })
    }

    @Test("a server that closes the idle connection is reconnected on the next command without an error")
    func idleCloseReconnects() throws {
        let server = try RedisServer()
        let fixture = try RedisFixture(server: server)
        defer { fixture.shutdown() }
        #expect(fixture.run(["PING"]).value == .simpleString("PONG"))

        _ = try server.cli(["CLIENT", "KILL", "TYPE", "normal"])
        usleep(200_000)

        #expect(fixture.run(["PING"]).value == .simpleString("PONG"))
    }

    @Test("a frozen server times commands out within the command timeout; after a thaw commands work again")
    func frozenServer() throws {
        let server = try RedisServer()
        var configuration = RedisConfiguration(
            host: "127.0.0.1", port: server.port, password: RedisPassword(server.password))
        configuration.commandTimeoutNanoseconds = 200_000_000
        let fixture = try RedisFixture(configuration)
        defer {
            server.resume()
            fixture.shutdown()
        }
        #expect(fixture.run(["PING"]).value == .simpleString("PONG"))

        server.pause()
        let started = Date()
        let error = try #require(fixture.run(["PING"]).error)
        let waited = Date().timeIntervalSince(started)

        #expect(error.kind == .timeout)
        #expect(waited >= 0.15 && waited < 3, "waited \(waited) s")
        server.resume()
        #expect(eventually(within: 10) { fixture.run(["PING"]).value == .simpleString("PONG") })
    }

    @Test("a listener that accepts but never answers AUTH fails the command after the connect timeout")
    func silentServer() throws {
        let listener = try SilentListener()
        var configuration = RedisConfiguration(host: "127.0.0.1", port: listener.port, password: RedisPassword("x"))
        configuration.connectTimeoutNanoseconds = 300_000_000
        let fixture = try RedisFixture(configuration)
        defer { fixture.shutdown() }

        let started = Date()
        let error = try #require(fixture.run(["PING"]).error)
        let waited = Date().timeIntervalSince(started)

        #expect(error.kind == .timeout)
        #expect(waited >= 0.25 && waited < 5, "waited \(waited) s")
    }

    @Test("nothing listening: the connect fails, then the backoff answers unavailable without trying again")
    func nothingListening() throws {
        let port = RedisServer.freePort()
        let fixture = try RedisFixture(RedisConfiguration(host: "127.0.0.1", port: port))
        defer { fixture.shutdown() }

        #expect(fixture.run(["PING"]).error?.kind == .connectFailed)
        #expect(fixture.run(["PING"]).error?.kind == .unavailable)
    }
}

/// A TCP listener on 127.0.0.1 that the kernel completes connections for, and that never reads or writes.
final class SilentListener {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard ok else { throw RedisServer.Failure(description: "silent listener: bind failed") }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}

/// A TCP server on 127.0.0.1 that accepts one connection, waits for the first bytes, answers `reply` and
/// keeps the connection open: a server that speaks something other than RESP.
final class ScriptedServer: @unchecked Sendable {
    // @unchecked: `fd` and `port` are set once in init; the accepting thread only reads them.
    let fd: Int32
    let port: Int

    init(reply: [UInt8]) throws {
        let listener = try SilentListener()
        fd = dup(listener.fd)
        port = listener.port
        let fd = self.fd
        Thread {
            let client = accept(fd, nil, nil)
            guard client >= 0 else { return }
            var scratch = [UInt8](repeating: 0, count: 4096)
            _ = read(client, &scratch, scratch.count)
            _ = reply.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
            usleep(3_000_000)
            close(client)
        }.start()
    }

    deinit { close(fd) }
}

@Suite("Redis client against hostile servers")
struct RedisHostileServerTests {
    @Test(
        "bytes that are not RESP, or a reply nobody asked for, fail the command with protocol_error",
        arguments: ["?garbage\r\n", "+PONG\r\n+EXTRA\r\n", "*99999999999\r\n", "$3\r\nabcXY"])
    func notRESP(reply: String) throws {
        let server = try ScriptedServer(reply: Array(reply.utf8))
        let fixture = try RedisFixture(RedisConfiguration(host: "127.0.0.1", port: server.port))
        defer { fixture.shutdown() }

        let result = fixture.run(["PING"])

        if reply.hasPrefix("+PONG") {
            // The first reply answers PING; the extra one is detected and closes the connection.
            #expect(result.value == .simpleString("PONG"))
        } else {
            #expect(result.error?.kind == .protocolError, "\(result)")
        }
    }

    @Test("past maxPendingCommands a loop refuses at once with overloaded, and the rest still complete")
    func overloaded() throws {
        let redis = try RedisServer()
        var configuration = RedisConfiguration(
            host: "127.0.0.1", port: redis.port, password: RedisPassword(redis.password))
        configuration.maxPendingCommands = 5
        let fixture = try RedisFixture(configuration)
        defer { fixture.shutdown() }

        let results = fixture.pipeline(Array(repeating: ["PING"], count: 12))

        // The handshake's AUTH takes one of the five places.
        #expect(results.filter { $0.error?.kind == .overloaded }.count == 8)
        #expect(results.filter { $0.value == .simpleString("PONG") }.count == 4)
    }
}
