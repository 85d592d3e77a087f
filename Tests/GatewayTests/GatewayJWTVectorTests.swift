import Auth
import Foundation
import Gateway
import PortalCore
import Testing

/// The shared JWT vectors, sent as bearer tokens through a running gateway (real sockets, real data layer)
/// whose keys come from the vectors' JWKS, with their issuer, audience and clock.
@Suite("JWT vectors through the live gateway")
struct GatewayJWTVectorTests {
    static func vectors() throws -> JSONValue {
        let packageRoot = String(#filePath.split(separator: "/").dropLast(3).joined(separator: "/"))
        let base = ProcessInfo.processInfo.environment["PORTAL_VECTORS"] ?? "/" + packageRoot + "/Tests/Vectors"
        let data = try #require(FileManager.default.contents(atPath: base + "/jwt-verification.json"))
        return try JSONParser().parse(Array(data))
    }

    @Test("every case gets its verdict as an HTTP answer: accepted cases 200, rejected ones 401 with a JSON error")
    func vectorsThroughGateway() throws {
        let document = try Self.vectors()
        let set = try JWKSet(json: try #require(document["jwks"]).serialized())
        let cases = try #require(document["cases"]?.arrayValue)
        let first = try #require(cases.first)
        let issuer = try #require(first["issuer"]?.stringValue)
        let audience = try #require(first["audience"]?.stringValue)
        let now = try #require(first["now"]?.numberValue?.int64)
        // One gateway serves all cases, so they must share one configuration.
        for item in cases {
            #expect(item["issuer"]?.stringValue == issuer && item["audience"]?.stringValue == audience)
            #expect(item["now"]?.numberValue?.int64 == now && item["leeway_seconds"]?.numberValue?.int64 == 60)
        }
        var options = GatewayHarness.Options()
        options.makeAuth = { clock in
            GatewayAuthentication(
                keyRing: JWTKeyRing(
                    fixedKeys: set.keys, configuration: JWTVerifier.Configuration(issuer: issuer, audience: audience),
                    clock: clock))
        }
        let harness = try GatewayHarness(options)
        defer { harness.shutdown() }
        #expect(harness.clock.unixSeconds() == now)

        var accepted = 0
        for item in cases {
            let name = item["name"]?.stringValue ?? "?"
            let token = try #require(item["token"]?.stringValue)
            let response = try harness.send("GET", "/api/v1/events", headers: [("Authorization", "Bearer \(token)")])
            if item["expect"]?.stringValue == "accept" {
                accepted += 1
                #expect(response.status == 200, "\(name): \(response.status) \(response.text)")
            } else {
                #expect(response.status == 401, "\(name): \(response.status)")
                #expect(response.errorCode == "E9102", "\(name)")
                #expect(response.header("WWW-Authenticate") == #"Bearer error="invalid_token""#, "\(name)")
                // Nothing of the token comes back, not even its signature.
                let signature = String(token.split(separator: ".").last ?? "")
                #expect(signature.count < 8 || !response.text.contains(signature), "\(name)")
            }
        }
        #expect(accepted >= 9)
        // Every rejection was counted as a failed credential.
        #expect(try harness.metric("auth_failures_total") == Double(cases.count - accepted))
    }
}
