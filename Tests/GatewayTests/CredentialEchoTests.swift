import Audit
import Auth
import Config
import Foundation
import Limits
import PortalCore
import Store
import Telemetry
import Testing

/// No answer, audit record or metric carries a credential, not even in part; 401 and 403 mean what they say.
@Suite("Credentials are never echoed")
struct CredentialEchoTests {
    @Test("failed passwords, tokens, keys and refresh tokens appear in no response, audit record or metric")
    func nothingEchoed() throws {
        let harness = try BruteForceTests.harness()
        defer { harness.shutdown() }
        let password = "p4ss-" + UUID().uuidString
        let forged = try harness.token(scopes: ["echo:read"], secret: GatewayHarness.otherSecret)
        let key = APIKeyFormat.generate().key
        let refresh = RefreshTokenFormat.generate()
        var texts: [String] = []
        func collect(_ response: TestHTTPClient.Response) {
            texts.append(response.text)
            texts.append(response.headers.map { "\($0.0): \($0.1)" }.joined(separator: "\n"))
        }
        collect(try BruteForceTests.login(harness, from: "192.0.2.10", password: password))
        collect(try TokenEndpointTests.post(harness, [("grant_type", "refresh_token"), ("refresh_token", refresh)]))
        let client = [
            ("grant_type", "client_credentials"), ("client_id", String(key.prefix(20))), ("client_secret", key),
        ]
        collect(try TokenEndpointTests.post(harness, client))
        collect(try harness.send("GET", "/echo/a", headers: [("Authorization", "Bearer \(forged)")]))
        collect(try harness.send("GET", "/echo/a", headers: [("X-API-Key", key)]))
        // A client that puts its key into X-Request-ID does not get it back or written down.
        collect(try harness.send("GET", "/echo/a", headers: [("X-API-Key", key), ("X-Request-ID", key)]))
        texts.append(harness.auditText())
        texts.append(try harness.exposition())
        var secrets: [String] = [password, String(password.suffix(12)), forged]
        secrets.append(String(forged.split(separator: ".")[2]))
        secrets += [key, String(key.suffix(43)), String(key.suffix(12)), refresh, String(refresh.suffix(12))]
        for text in texts {
            for secret in secrets { #expect(!text.contains(secret), "leaked in: \(text.prefix(200))") }
        }
        #expect(harness.auditText().contains("\"token_fingerprint\":\"\(AuditFingerprint.of(key))\""))
    }

    @Test("401 for a missing or failed credential, 403 for a known caller without the right")
    func statusMatrix() throws {
        var options = GatewayHarness.Options()
        options.fakeUpstreamRoutes = [
            Route(
                prefix: "/ops", upstream: UpstreamURL(host: "127.0.0.1", port: 1), scopesByMethod: ["GET": []],
                rolesByMethod: ["GET": ["admin"]])
        ]
        let harness = try GatewayHarness(options)
        defer { harness.shutdown() }
        let reader = try harness.token(scopes: ["echo:read"])
        let cases: [(String, [(String, String)], Int, String)] = [
            ("/echo/a", [], 401, "E9101"),
            ("/echo/a", [("Authorization", "Bearer \(reader)x")], 401, "E9102"),
            ("/echo/a", [("Authorization", "Basic dXNlcjpwdw==")], 401, "E9103"),
            ("/echo/a", [("X-API-Key", "spk_nope")], 401, "E9105"),
            ("/ops", [("Authorization", "Bearer \(reader)")], 403, "E9203"),
            ("/api/v1/events", [("Authorization", "Bearer \(reader)")], 403, "E9201"),
        ]
        for (path, headers, status, code) in cases {
            let response = try harness.send("GET", path, headers: headers)
            #expect(response.status == status && response.errorCode == code, "\(path) \(headers.first?.0 ?? "none")")
            #expect((response.header("WWW-Authenticate") != nil) == (status == 401))
        }
    }
}

/// The audit trail's fingerprint of a credential.
enum AuditFingerprint {
    static func of(_ credential: String) -> String { Audit.AuditRecord.fingerprint(of: credential) }
}

extension CredentialEchoTests {
    @Test("an X-Request-ID holding any part of a credential is replaced: not echoed, forwarded or audited")
    func credentialShapedRequestIDs() throws {
        let harness = try GatewayHarness()
        defer { harness.shutdown() }
        let key = APIKeyFormat.generate().key
        let jwt = try harness.token(scopes: ["echo:read"])
        let segments = jwt.split(separator: ".").map(String.init)
        let refresh = RefreshTokenFormat.generate()
        let replaced = [
            "Q7yWD-sVBwa3NXmKbu4GjbZyOjTVogg--4QsVNWDT0g", String(key.suffix(43)), String(key.dropFirst(4)),
            "SPK_" + key.dropFirst(4), key, segments[1], segments[2], jwt, refresh, String(refresh.dropFirst(4)),
            "Srt_abc", "spk_0123456789abcdef", "eyJhbGciOiJIUzI1NiJ9", String(repeating: "ab", count: 13),
            Base64URL.encode(Array(repeating: 7, count: 20)),
        ]
        for id in replaced {
            let response = try harness.send("GET", "/public/x", headers: [("X-Request-ID", id)])
            let answered = try #require(response.header("X-Request-ID"), "\(id)")
            #expect(answered != id && answered.count == 32, "\(id)")
            #expect(harness.fake.seen.last?.values(normalisedName: "x-request-id") == [answered], "\(id)")
        }
        let audit = harness.auditText()
        for id in replaced { #expect(!audit.contains(id), "\(id) audited") }

        // Ids of the usual shapes are still kept.
        let kept = [
            "6f1c1d1e-3a4b-4c5d-8e9f-0a1b2c3d4e5f", "0123456789abcdef0123456789ABCDEF", "01ARZ3NDEKTSV4RRFFQ69G5FAV",
            "req-42", "client-Req_1.2",
        ]
        for id in kept {
            let response = try harness.send("GET", "/public/x", headers: [("X-Request-ID", id)])
            #expect(response.header("X-Request-ID") == id)
            #expect(harness.fake.seen.last?.values(normalisedName: "x-request-id") == [id])
        }
    }
}
