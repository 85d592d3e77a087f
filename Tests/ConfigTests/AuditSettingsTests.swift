import Testing

@testable import Config

@Suite("AuditSettings")
struct AuditSettingsTests {
    private static let strongSecret = "0123456789abcdef0123456789abcdef-strong"

    private func load(_ variables: [String: String], files: [String: String] = [:]) throws -> PortalSettings {
        try PortalSettings.load(from: Environment(variables: variables, readFile: { files[$0] }))
    }

    private func message(_ variables: [String: String]) -> String? {
        do {
            _ = try load(variables)
            return nil
        } catch {
            return String(describing: error)
        }
    }

    @Test("defaults: no keys (development generates them), checkpoints every 60 s")
    func defaults() throws {
        let audit = try load([:]).audit
        #expect(audit.hmacKey == nil && audit.signingKeyFile == nil && audit.checkpointIntervalSeconds == 60)
    }

    @Test("reads the key, its _FILE twin, the signing key path and the interval")
    func readsEverything() throws {
        let direct = try load([
            "AUDIT_HMAC_KEY": Self.strongSecret, "AUDIT_SIGNING_KEY_FILE": "/k/audit.pem",
            "AUDIT_CHECKPOINT_INTERVAL_SECONDS": "5",
        ]).audit
        #expect(direct.hmacKey?.text == Self.strongSecret && direct.signingKeyFile == "/k/audit.pem")
        #expect(direct.checkpointIntervalSeconds == 5)
        let twin = try load(["AUDIT_HMAC_KEY_FILE": "/s/hmac"], files: ["/s/hmac": Self.strongSecret + "\n"]).audit
        #expect(twin.hmacKey?.text == Self.strongSecret)
    }

    @Test(
        "bad values stop start-up with one line naming the variable, never echoing the key",
        arguments: [
            (["AUDIT_HMAC_KEY": "short-key"], "AUDIT_HMAC_KEY: must be at least 32 bytes"),
            (["AUDIT_SIGNING_KEY_FILE": ""], "AUDIT_SIGNING_KEY_FILE: expected a PEM file path"),
            (["AUDIT_CHECKPOINT_INTERVAL_SECONDS": "0"], "AUDIT_CHECKPOINT_INTERVAL_SECONDS: expected"),
            (["AUDIT_CHECKPOINT_INTERVAL_SECONDS": "soon"], "AUDIT_CHECKPOINT_INTERVAL_SECONDS: expected"),
        ])
    func badValues(variables: [String: String], prefix: String) {
        let text = message(variables)
        #expect(text?.hasPrefix(prefix) == true, "\(text ?? "loaded")")
        #expect(text?.contains("short-key") == false)
        #expect(text?.contains("\n") == false)
    }

    @Test("production requires both keys while the audit trail is on")
    func production() throws {
        let base = [
            "PORTAL_ENV": "production", "JWT_SECRET": Self.strongSecret,
            "CREDENTIAL_HMAC_KEY": Self.strongSecret + "-credentials",
        ]
        #expect(message(base)?.hasPrefix("AUDIT_HMAC_KEY: is required") == true)
        let withKey = base.merging(["AUDIT_HMAC_KEY": Self.strongSecret + "-audit"]) { $1 }
        #expect(message(withKey)?.hasPrefix("AUDIT_SIGNING_KEY_FILE: is required") == true)
        let complete = withKey.merging(["AUDIT_SIGNING_KEY_FILE": "/k/audit.pem"]) { $1 }
        #expect(try load(complete).audit.signingKeyFile == "/k/audit.pem")
        #expect(try load(base.merging(["AUDIT_LOG_ENABLED": "false"]) { $1 }).audit.hmacKey == nil)
    }
}
