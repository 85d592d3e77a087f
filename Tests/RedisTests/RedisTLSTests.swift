import Foundation
import Net
import RESP
import Redis
import RedisTestSupport
import Testing

/// `rediss://`: Debian's redis-server 7 is built with TLS, so these run against a real `tls-port`, with
/// certificates made by the same code as `portal cert self-signed`.
@Suite("Redis over TLS")
struct RedisTLSTests {
    /// A self-signed pair for `host`, written into a fresh directory.
    static func pair(host: String) throws -> RedisServer.TLSFiles {
        let directory = NSTemporaryDirectory() + "redis-tls-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let certificate = try SelfSignedCertificate(host: host)
        let files = RedisServer.TLSFiles(certificatePath: directory + "/cert.pem", keyPath: directory + "/key.pem")
        try Data(certificate.certificatePEM).write(to: URL(fileURLWithPath: files.certificatePath))
        try Data(certificate.privateKeyPEM).write(to: URL(fileURLWithPath: files.keyPath))
        return files
    }

    static func fixture(_ server: RedisServer, host: String, caPath: String) throws -> RedisFixture {
        let tls = try TLSClientContext(caPath: caPath, setting: "REDIS_TLS_CA_PATH")
        return try RedisFixture(
            RedisConfiguration(
                host: host, port: server.port, password: RedisPassword(server.password), tls: tls))
    }

    @Test("with the server's certificate as CA, AUTH and commands run over TLS")
    func verified() throws {
        let files = try Self.pair(host: "localhost")
        let server = try RedisServer(tls: files)
        let fixture = try Self.fixture(server, host: "localhost", caPath: files.certificatePath)
        defer { fixture.shutdown() }

        #expect(fixture.run(["SET", "portal:tls", "yes"]).value == .simpleString("OK"))
        #expect(fixture.pipeline(Array(repeating: ["INCR", "portal:n"], count: 200)).last?.value == .integer(200))
        #expect(try server.cli(["GET", "portal:tls"]) == "yes")
    }

    @Test("a certificate from another CA is refused before AUTH is sent")
    func unknownCA() throws {
        let files = try Self.pair(host: "localhost")
        let other = try Self.pair(host: "localhost")
        let server = try RedisServer(tls: files)
        let fixture = try Self.fixture(server, host: "localhost", caPath: other.certificatePath)
        defer { fixture.shutdown() }

        let error = try #require(fixture.run(["PING"]).error)

        #expect(error.kind == .tlsFailed)
        #expect(error.detail.contains("certificate verify failed"), "\(error)")
    }

    @Test("a certificate for another host name is refused")
    func wrongHost() throws {
        let files = try Self.pair(host: "redis.other.test")
        let server = try RedisServer(tls: files)
        let fixture = try Self.fixture(server, host: "localhost", caPath: files.certificatePath)
        defer { fixture.shutdown() }

        let error = try #require(fixture.run(["PING"]).error)

        #expect(error.kind == .tlsFailed)
        #expect(error.detail.contains("mismatch"), "\(error)")
    }

    @Test("plain RESP to a TLS port fails instead of hanging")
    func plainToTLS() throws {
        let files = try Self.pair(host: "localhost")
        let server = try RedisServer(tls: files)
        var configuration = RedisConfiguration(
            host: "127.0.0.1", port: server.port, password: RedisPassword(server.password))
        configuration.connectTimeoutNanoseconds = 1_000_000_000
        let fixture = try RedisFixture(configuration)
        defer { fixture.shutdown() }

        let error = try #require(fixture.run(["PING"]).error)

        #expect([.connectionLost, .timeout, .protocolError].contains(error.kind), "\(error)")
    }
}
