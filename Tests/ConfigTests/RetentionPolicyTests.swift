import Foundation
import Testing

@testable import Config

@Suite("Retention rules from PORTAL_CONFIG")
struct RetentionPolicyTests {
    static let routes =
        #"{"routes": [{"prefix": "/a", "upstream": "http://127.0.0.1:8001", "methods": ["GET"], "public": true}]"#

    private func settings(_ retention: String?, interval: String? = nil) throws -> PortalSettings {
        var variables = ["PORTAL_CONFIG": "/etc/portal.json"]
        if let interval { variables["RETENTION_PURGE_INTERVAL_SECONDS"] = interval }
        let file = Self.routes + (retention.map { #", "retention": \#($0)}"# } ?? "}")
        return try PortalSettings.load(
            from: Environment(variables: variables, readFile: { _ in nil }),
            readConfigFile: { $0 == "/etc/portal.json" ? Data(file.utf8) : nil })
    }

    private func error(_ retention: String) -> String {
        do {
            _ = try settings(retention)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test("named types, \"*\" and the interval; without a section nothing is purged")
    func parsed() throws {
        let policy = try settings(#"{"events": {"order.created": "30d", "session.started": "12h", "*": "365d"}}"#)
            .retention
        #expect(policy.maxAgeSecondsByType == ["order.created": 2_592_000, "session.started": 43_200])
        #expect(policy.defaultMaxAgeSeconds == 31_536_000)
        #expect(policy.rules.map(\.eventType) == ["order.created", "session.started", nil])
        #expect(policy.purgeIntervalSeconds == 3600)
        let none = try settings(nil, interval: "60").retention
        #expect(!none.hasRules && none.purgeIntervalSeconds == 60)
        #expect(try settings(#"{"events": {"a": "1h"}}"#).retention.defaultMaxAgeSeconds == nil)
    }

    @Test("bad rules stop start-up with one line naming PORTAL_CONFIG and the key")
    func refused() {
        let table: [(String, String)] = [
            (#"[]"#, "PORTAL_CONFIG: $.retention: expected an object"),
            (#"{"event": {}}"#, #"PORTAL_CONFIG: $.retention: unknown key "event" (known: events)"#),
            (#"{"events": []}"#, "PORTAL_CONFIG: $.retention.events: expected an object"),
            (#"{"events": {"order.created": "30"}}"#, #"PORTAL_CONFIG: $.retention.events["order.created"]: expected"#),
            (#"{"events": {"order.created": 30}}"#, #"$.retention.events["order.created"]: expected a maximum age"#),
            (#"{"events": {"a": "0d"}}"#, #"$.retention.events["a"]: expected a maximum age"#),
            (#"{"events": {"a": "30m"}}"#, #"$.retention.events["a"]: expected"#),
            (#"{"events": {"a": "36501d"}}"#, #"$.retention.events["a"]: expected"#),
            (#"{"events": {"a": "-1d"}}"#, #"$.retention.events["a"]: expected"#),
            (#"{"events": {"a": " 1d"}}"#, #"$.retention.events["a"]: expected"#),
            (#"{"events": {"Order": "1d"}}"#, #"$.retention.events["Order"]: an event type matches"#),
            (#"{"events": {"order.*": "1d"}}"#, #"$.retention.events["order.*"]: an event type matches"#),
            (#"{"events": {"": "1d"}}"#, #"$.retention.events[""]: an event type matches"#),
        ]
        for (retention, expected) in table {
            let message = error(retention)
            #expect(message.contains(expected), "\(retention): \(message)")
            #expect(!message.contains("\n"))
        }
        #expect(throws: ConfigError.self) { try settings(nil, interval: "0") }
    }
}
