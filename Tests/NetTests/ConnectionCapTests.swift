import HTTPCodec
import Net
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("HTTPServer connection caps over real sockets")
struct ConnectionCapTests {
    /// A started one-loop server with `limits`, and what its refusal callback was told.
    final class CappedServer {
        let group: EventLoopGroup
        let server: HTTPServer
        let recorded = Recorded()

        /// What `onConnectionRefused` was told, in order.
        final class Recorded: Sendable {
            let reasons = Mutex<[ConnectionRefusal]>([])
        }

        var reasons: [ConnectionRefusal] { recorded.reasons.withLock { $0 } }

        init(_ limits: HTTPServerConnectionLimits) throws {
            group = try EventLoopGroup(threads: 1)
            let recorded = recorded
            server = HTTPServer(
                host: "127.0.0.1", port: 0, group: group, handler: RecordingHandler(), connectionLimits: limits
            ) { reason in recorded.reasons.withLock { $0.append(reason) } }
            try server.start()
        }

        /// Whether a request from a new connection from `source` is answered 200.
        func served(from source: String) throws -> (client: TestClient, answered: Bool) {
            let client = try TestClient(port: server.port, timeoutMilliseconds: 2000, source: source)
            client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            return (client, client.readResponses(1).responses.first?.status == 200)
        }

        func stop() {
            server.shutdown(deadline: .milliseconds(500))
            group.shutdown()
        }
    }

    @Test("past the per-address cap a new connection is closed at once; other addresses still get in")
    func perAddressCap() throws {
        let capped = try CappedServer(HTTPServerConnectionLimits(maxConnections: 100, maxConnectionsPerAddress: 2))
        defer { capped.stop() }
        let first = try capped.served(from: "127.0.0.1")
        let second = try capped.served(from: "127.0.0.1")
        #expect(first.answered && second.answered)
        let third = try capped.served(from: "127.0.0.1")
        #expect(!third.answered)
        #expect(third.client.waitForClose())
        let other = try capped.served(from: "127.0.0.2")
        #expect(other.answered)
        #expect(capped.server.refusedConnections == 1)
        #expect(capped.reasons == [.addressFull])
    }

    @Test("past the total cap every address is refused, and a closed connection frees its place")
    func totalCap() throws {
        let capped = try CappedServer(HTTPServerConnectionLimits(maxConnections: 3, maxConnectionsPerAddress: 256))
        defer { capped.stop() }
        var open = try (1...3).map { try capped.served(from: "127.0.0.\($0)") }
        #expect(open.allSatisfy { $0.answered })
        let refused = try capped.served(from: "127.0.0.4")
        #expect(!refused.answered)
        #expect(capped.reasons == [.serverFull])

        // Closing one connection gives its place back (the loop notices the close shortly after).
        open.removeFirst()
        for _ in 0..<200 where capped.server.openConnectionCount > 2 { usleep(5_000) }
        #expect(capped.server.openConnectionCount == 2)
        let again = try capped.served(from: "127.0.0.4")
        #expect(again.answered)
        #expect(capped.server.refusedConnections == 1)
    }

    @Test("the defaults are the documented MAX_CONNECTIONS and MAX_CONNECTIONS_PER_IP")
    func defaults() {
        let limits = HTTPServerConnectionLimits()
        #expect(limits.maxConnections == 10_000)
        #expect(limits.maxConnectionsPerAddress == 256)
    }
}
