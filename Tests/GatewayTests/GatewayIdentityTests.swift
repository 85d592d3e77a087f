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
        let forged = base + [("X-Consumer-Timestamp", now), ("X-Consumer-Signature", "v1=AAAA")]
        #expect(try Self.get(harness, forged).errorCode == "E9109")
        let fields = ConsumerSignature.Fields(
            timestamp: Int64(now)!, requestID: "r-1", method: "GET", target: "/api/v1/events", consumerID: "admin",
            scopes: "*")
        let signed = base + [
            ("X-Request-ID", "r-1"), ("X-Consumer-Timestamp", now),
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
        let spoof = [("X-Consumer-Signature", "v1=spoofed"), ("X-Consumer-Timestamp", "1")]
        let echoed = try harness.send("GET", "/echo/a?b=1", headers: [("Authorization", "Bearer \(token)")] + spoof)
        #expect(echoed.status == 200)
        #expect(try harness.send("GET", "/public/x", headers: spoof).status == 200)
        let seen = harness.fake.seen
        #expect(seen.count == 2)
        let verifier = ConsumerSignatureVerifier(key: Self.key)
        for (request, consumer) in zip(seen, ["svc-7", ""]) {
            let signatures = request.values(normalisedName: "x-consumer-signature")
            let stamps = request.values(normalisedName: "x-consumer-timestamp")
            #expect(signatures.count == 1 && stamps.count == 1 && signatures != ["v1=spoofed"])
            let fields = ConsumerSignature.Fields(
                timestamp: Int64(stamps.first ?? "") ?? 0,
                requestID: request.values(normalisedName: "x-request-id").first ?? "", method: request.method,
                target: request.target, consumerID: request.values(normalisedName: "x-consumer-id").first ?? "",
                scopes: request.values(normalisedName: "x-consumer-scopes").first ?? "")
            #expect(fields.consumerID == consumer)
            #expect(verifier.check(signatures.first, fields) == nil, "\(request.target)")
        }
    }
}
