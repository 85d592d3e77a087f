import Foundation
import PostgresTestSupport
import Store
import Testing

/// What happens when PostgreSQL goes away, hangs or comes back, and when a gateway is killed: each test has a
/// PostgreSQL cluster of its own (so stopping it disturbs no other test) and real `portal` processes.
@Suite("PostgreSQL failures, end to end", .serialized)
struct PostgresFailureTests {
    private func post(_ port: Int, key: String, aggregate: String = "agg") throws -> Curl.Response {
        try Curl.request([
            "-X", "POST", "-H", "X-Service-Key: \(key)", "-H", "Content-Type: application/json",
            "--data",
            "{\"event_type\":\"story.created\",\"aggregate_type\":\"story\","
                + "\"aggregate_id\":\"\(aggregate)\",\"payload\":{}}",
            "http://127.0.0.1:\(port)/api/v1/events",
        ])
    }

    private func versions(_ port: Int, key: String) throws -> [Int] {
        let response = try Curl.request([
            "-H", "X-Service-Key: \(key)", "http://127.0.0.1:\(port)/api/v1/events?aggregate_id=agg&limit=1000",
        ])
        let events = response.json?["events"] as? [[String: Any]] ?? []
        return events.compactMap { $0["version"] as? Int }
    }

    @Test("db init on a fresh cluster creates both roles with passwords; the data layer logs in as l01_service")
    func freshClusterInit() throws {
        let deployment = try PostgresDeployment()
        #expect(
            deployment.initOutput.contains("role l01_service: created with LOGIN only; password set (SCRAM-SHA-256)"))
        #expect(
            deployment.initOutput.contains("role l09_service: created with LOGIN only; password set (SCRAM-SHA-256)"))
        #expect(!deployment.initOutput.contains(deployment.dataLayerPassword))
        let dataLayer = try deployment.startDataLayer()
        let port = try #require(dataLayer.ports["data layer"])
        #expect(try post(port, key: deployment.serviceKey).status == 201)
        // The gateway's role logs in too, and may read but not write; it reads ciphertext only (no data keys).
        let asGateway = try deployment.cluster.tcpOptions(
            database: "portal", user: "l09_service", password: deployment.gatewayPassword)
        let reader = try PostgresEventStore(pool: PostgresConnectionPool(options: asGateway, size: 1))
        #expect { try reader.list(EventQuery(limit: 10)) } throws: { ($0 as? StoreError)?.isEncryptionFailure == true }
        let sealed = try deployment.cluster.server.psql(
            "SELECT count(*) FROM mcp_documents.events WHERE format = 3", database: "portal", role: "l09_service")
        #expect(sealed.rows == ["1"], "\(sealed.stderr)")
        #expect {
            try reader.append(NewEvent(eventType: "t", aggregateType: "a", aggregateID: "b", payloadJSON: "{}"))
        } throws: { ($0 as? StoreError)?.sqlState == "42501" }
        let wrong = try deployment.cluster.tcpOptions(database: "portal", user: "l01_service", password: "wrong")
        #expect {
            try PostgresEventStore(pool: PostgresConnectionPool(options: wrong, size: 1))
        } throws: { String(describing: $0).contains("password authentication failed") }
        _ = dataLayer.terminate()
    }

    @Test("PostgreSQL down or frozen: writes answer 503 JSON at once, nothing is half-written, and they recover alone")
    func downAndSlow() throws {
        let deployment = try PostgresDeployment()
        let dataLayer = try deployment.startDataLayer()
        let port = try #require(dataLayer.ports["data layer"])
        let key = deployment.serviceKey
        for _ in 0..<3 { #expect(try post(port, key: key).status == 201) }

        // Down: refused connections become 503 with a JSON error and Retry-After.
        try deployment.cluster.stop()
        let down = try post(port, key: key)
        #expect(down.status == 503)
        #expect((down.json?["error"] as? [String: Any])?["code"] as? String == "E9903")
        #expect(down.header("Retry-After") == "1")
        let ready = try Curl.request(["http://127.0.0.1:\(port)/health/ready"])
        #expect(ready.status == 503)

        // Back: the next write succeeds without restarting anything.
        try deployment.cluster.start()
        #expect(try post(port, key: key).status == 201)

        // Frozen (every PostgreSQL process stopped): answers come within the timeout, as 503.
        try deployment.cluster.pause()
        let started = Date()
        let frozen = try post(port, key: key)
        let waited = Date().timeIntervalSince(started)
        try deployment.cluster.resume()
        #expect(frozen.status == 503)
        #expect(waited < 8, "POSTGRES_TIMEOUT_SECONDS=1 bounds the wait; took \(waited) s")
        #expect(try post(port, key: key).status == 201)

        // Every 201 is there once; versions 1...5 without a hole: no failed write left anything behind.
        #expect(try versions(port, key: key) == [1, 2, 3, 4, 5])
        _ = dataLayer.terminate()
    }

    @Test("stop PostgreSQL mid-load and start it again: every audit record is in the table once, without a gap")
    func auditSurvivesOutage() throws {
        let deployment = try PostgresDeployment()
        let dataLayer = try deployment.startDataLayer()
        let gateway = try deployment.startGateway(
            dataDirectory: "gw-a", dataLayerPort: try #require(dataLayer.ports["data layer"]))
        let load = LoadGenerator(
            port: try #require(gateway.ports["gateway"]),
            request: "GET /api/v1/events HTTP/1.1\r\nHost: portal\r\nConnection: close\r\n\r\n", maxSeconds: 30)
        Thread.sleep(forTimeInterval: 2)
        try deployment.cluster.stop()
        Thread.sleep(forTimeInterval: 2)
        try deployment.cluster.start()
        Thread.sleep(forTimeInterval: 2)
        load.stop()
        #expect((load.statusCounts[401] ?? 0) > 100, "\(load.statusCounts)")

        // Stop the gateway cleanly: its file then holds every record it acknowledged.
        #expect(gateway.terminate() == 0)
        let fileLines = try deployment.auditLines(dataDirectory: "gw-a")
        let source = try deployment.instanceID(dataDirectory: "gw-a")
        // What the stopping gateway could not ship waits in its file; a restart ships it.
        let restarted = try deployment.startGateway(
            dataDirectory: "gw-a", dataLayerPort: try #require(dataLayer.ports["data layer"]))
        let stored = try deployment.waitForStored(fileLines.count, source: source)
        #expect(stored.count == fileLines.count)
        #expect(stored == fileLines, "the table holds each record of the file once, in order, byte for byte")
        #expect(gateway.log.contains("audit.ship_failing"))
        _ = restarted.terminate()
        _ = dataLayer.terminate()
    }

    @Test("kill -9 of a gateway under load loses no durably written audit record: after restart all reach the table")
    func gatewayKilled() throws {
        let deployment = try PostgresDeployment()
        let dataLayer = try deployment.startDataLayer()
        let dataLayerPort = try #require(dataLayer.ports["data layer"])
        let gateway = try deployment.startGateway(dataDirectory: "gw-k", dataLayerPort: dataLayerPort)
        let load = LoadGenerator(
            port: try #require(gateway.ports["gateway"]),
            request: "GET /api/v1/events HTTP/1.1\r\nHost: portal\r\nConnection: close\r\n\r\n", maxSeconds: 30)
        Thread.sleep(forTimeInterval: 2.5)
        gateway.kill9()
        load.stop()
        // Whole lines in the file at the moment of the crash: written, and so owed to the table.
        let atCrash = try deployment.auditLines(dataDirectory: "gw-k")
        #expect(atCrash.count > 100, "\(load.statusCounts)")
        let source = try deployment.instanceID(dataDirectory: "gw-k")

        let restarted = try deployment.startGateway(dataDirectory: "gw-k", dataLayerPort: dataLayerPort)
        let stored = try deployment.waitForStored(atCrash.count, source: source)
        #expect(stored.count == atCrash.count)
        #expect(stored == atCrash, "every record written before the crash is in the table once, in order")
        _ = restarted.terminate()
        _ = dataLayer.terminate()
    }
}
