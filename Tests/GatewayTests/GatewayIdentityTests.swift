import Auth
import Foundation
import Testing

/// The gateway vouches for the caller's identity to upstreams; the data layer checks the gateway's word.
@Suite("Signed consumer identity")
struct GatewayIdentityTests {
    static let key = Array("identity-key-of-the-gateway-tests-32b!!".utf8)

    static func get(_ harness: GatewayHarness, _ headers: [(String, String)]) throws -> TestHTTPClient.Response {
        try TestHTTPClient(port: harness.dataLayer.port).request("GET", "/api/v1/events", headers: headers)
    }

    @Test("through the gateway the data layer accepts; a holder of the service key alone cannot pose as anyone")
    func dataLayerChecks() throws {
        var options = GatewayHarness.Options()
        options.identityKey = Self.key
        let harness = try GatewayHarness(options)
        defer { harness.shutdown() }
        let token = try harness.token(scopes: ["events:read", "events:write"], subject: "alice")
        let body = Array(#"{"event_type":"a","aggregate_type":"b","aggregate_id":"c","payload":{}}"#.utf8)
        let created = try harness.send(
            "POST", "/api/v1/events",
            headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")], body: body)
        #expect(created.status == 201, "\(created.text)")
        let listed = try harness.send("GET", "/api/v1/events", headers: [("Authorization", "Bearer \(token)")])
        #expect(listed.status == 200)

        // Straight to the data layer with the gateway's service key: no signature, a made-up one, a copied one.
        let direct = try TestHTTPClient(port: harness.dataLayer.port)
        let base = [("X-Service-Key", harness.serviceKey), ("X-Consumer-ID", "admin"), ("X-Consumer-Scopes", "*")]
        #expect(try direct.request("GET", "/api/v1/events", headers: base).errorCode == "E9109")
        let now = String(Int(Date().timeIntervalSince1970))
        let forged =
            base + [
                ("X-Consumer-Timestamp", now), ("X-Consumer-Nonce", "n-0123456789abcdef"),
                ("X-Consumer-Signature", "v2=AAAA"),
            ]
        #expect(try Self.get(harness, forged).errorCode == "E9109")
        let fields = ConsumerSignature.Fields(
            timestamp: Int64(now)!, nonce: "n-0123456789abcdef", requestID: "r-1", method: "GET",
            target: "/api/v1/events", consumerID: "admin",
            scopes: "*")
        let signed =
            base + [
                ("X-Request-ID", "r-1"), ("X-Consumer-Timestamp", now), ("X-Consumer-Nonce", "n-0123456789abcdef"),
                ("X-Consumer-Signature", ConsumerSignature(key: Self.key).sign(fields)),
            ]
        // With the key the signature is good once; the same request again is a replay.
        #expect(try Self.get(harness, signed).status == 200)
        #expect(try Self.get(harness, signed).errorCode == "E9109")
    }

    @Test("upstreams get a signature over the identity, anonymous calls too; client copies never pass")
    func upstreamHeaders() throws {
        var options = GatewayHarness.Options()
        options.identityKey = Self.key
        let harness = try GatewayHarness(options)
        defer { harness.shutdown() }
        let token = try harness.token(scopes: ["echo:read"], subject: "svc-7")
        let spoof = [
            ("X-Consumer-Signature", "v2=spoofed"), ("X-Consumer-Timestamp", "1"),
            ("X-Consumer-Nonce", "n-spoofed-nonce-1"),
        ]
        let echoed = try harness.send("GET", "/echo/a?b=1", headers: [("Authorization", "Bearer \(token)")] + spoof)
        #expect(echoed.status == 200)
        #expect(try harness.send("GET", "/public/x", headers: spoof).status == 200)
        let seen = harness.fake.seen
        #expect(seen.count == 2)
        let verifier = ConsumerSignatureVerifier(key: Self.key)
        for (request, consumer) in zip(seen, ["svc-7", ""]) {
            let signatures = request.values(normalisedName: "x-consumer-signature")
            let stamps = request.values(normalisedName: "x-consumer-timestamp")
            #expect(signatures.count == 1 && stamps.count == 1 && signatures != ["v2=spoofed"])
            let nonces = request.values(normalisedName: "x-consumer-nonce")
            #expect(nonces.count == 1 && nonces != ["n-spoofed-nonce-1"])
            let fields = ConsumerSignature.Fields(
                timestamp: Int64(stamps.first ?? "") ?? 0, nonce: nonces.first ?? "",
                requestID: request.values(normalisedName: "x-request-id").first ?? "", method: request.method,
                target: request.target, consumerID: request.values(normalisedName: "x-consumer-id").first ?? "",
                scopes: request.values(normalisedName: "x-consumer-scopes").first ?? "")
            #expect(fields.consumerID == consumer)
            #expect(verifier.check(signatures.first, fields) == nil, "\(request.target)")
        }
    }

    @Test("identical requests with the same X-Request-ID in one second all reach the data layer")
    func identicalRequestsPass() throws {
        var options = GatewayHarness.Options()
        options.identityKey = Self.key
        let harness = try GatewayHarness(options)
        defer { harness.shutdown() }
        let token = try harness.token(scopes: ["events:read"], subject: "alice")
        let headers = [("Authorization", "Bearer \(token)"), ("X-Request-ID", "same-id-1")]
        // The harness clock does not move: every signature carries the same second.
        let statuses = try (0..<3).map { _ in try harness.send("GET", "/api/v1/events", headers: headers) }
        #expect(statuses.map(\.status) == [200, 200, 200], "\(statuses.map(\.text))")
        // The same on one keep-alive connection, where nothing but the nonce tells the requests apart.
        let client = try harness.client()
        for _ in 0..<3 { #expect(try client.request("GET", "/api/v1/events", headers: headers).status == 200) }
    }

    @Test("a retry on a fresh upstream connection resends the same nonce, and a checking upstream accepts it")
    func retryKeepsNonce() throws {
        let verifier = ConsumerSignatureVerifier(key: Self.key)
        let nonces = Shared<[String]>([])
        let checks = Shared<[ConsumerSignatureVerifier.Refusal?]>([])
        let connections = Shared(0)
        let upstream = try ScriptedUpstream { peer in
            var index = 0
            connections.update {
                $0 += 1
                index = $0
            }
            // The first connection answers once, then closes on the next request without reading it, as a server
            // ending an idle keep-alive does; the gateway then retries that request on a fresh connection.
            var served = 0
            while let request = peer.readRequest() {
                let headers = request.head.request.headers
                nonces.update { $0.append(headers.first(ConsumerSignature.nonceHeader) ?? "") }
                if index == 1, served == 1 { return }
                let fields = ConsumerSignature.Fields(
                    timestamp: Int64(headers.first(ConsumerSignature.timestampHeader) ?? "") ?? 0,
                    nonce: headers.first(ConsumerSignature.nonceHeader) ?? "",
                    requestID: headers.first("X-Request-ID") ?? "", method: request.head.request.method,
                    target: request.head.request.target, consumerID: headers.first("X-Consumer-ID") ?? "",
                    scopes: headers.first("X-Consumer-Scopes") ?? "")
                let refusal = verifier.check(headers.first(ConsumerSignature.signatureHeader), fields)
                checks.update { $0.append(refusal) }
                peer.send("HTTP/1.1 \(refusal == nil ? 200 : 401) OK\r\nContent-Length: 2\r\n\r\nok")
                served += 1
            }
        }
        defer { upstream.stop() }
        var options = GatewayHarness.Options()
        options.identityKey = Self.key
        options.identityPorts = [upstream.port]
        options.extraRoutes = [GatewayStreamingTests.route("/signed", upstream)]
        let harness = try GatewayHarness(options)
        defer { harness.shutdown() }
        let headers = [("X-Request-ID", "same-id-2")]
        #expect(try harness.send("GET", "/signed/a", headers: headers).status == 200)
        #expect(try harness.send("GET", "/signed/a", headers: headers).status == 200)
        #expect(connections.value == 2)
        // Three requests reached a socket: the first, the second on the pooled connection, its retry.
        let seen = nonces.value
        #expect(seen.count == 3 && seen[1] == seen[2] && seen[0] != seen[1], "\(seen)")
        #expect(checks.value.count == 2 && checks.value.allSatisfy { $0 == nil })
    }
}
