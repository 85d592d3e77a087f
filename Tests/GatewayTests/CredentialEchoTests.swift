import Audit
import Auth
import Config
import Foundation
import Limits
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
