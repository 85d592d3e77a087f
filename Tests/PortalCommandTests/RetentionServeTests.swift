import Foundation
import PortalCore
import Store
import Testing

/// Retention rules as an operator sets them: in `PORTAL_CONFIG`, applied by the running data layer.
@Suite("Retention purges in a running portal")
struct RetentionServeTests {
    static let day: Int64 = 86_400

    /// A `PORTAL_CONFIG` file in `dir` with one public route and `retention`.
    static func config(_ dir: URL, retention: String) throws -> String {
        let url = dir.appendingPathComponent("portal.json")
        let text =
            #"{"routes": [{"prefix": "/status", "upstream": "http://127.0.0.1:9", "methods": ["GET"], "public": true}], "#
            + #""retention": \#(retention)}"#
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test("a bad retention rule stops start-up with one line naming PORTAL_CONFIG and the rule")
    func badRule() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var env = PortalProcess.baseEnvironment(dataDirectory: dir)
        env["PORTAL_CONFIG"] = try Self.config(dir, retention: #"{"events": {"order.created": "30 days"}}"#)
        for command in ["serve", "data-layer"] {
            let outcome = try PortalProcess.run([command], environment: env, in: dir)
            #expect(outcome.status == 2, "\(command): \(outcome.stderr)")
            #expect(outcome.stderrLines.count == 1, "\(outcome.stderr)")
            #expect(outcome.stderr.contains(#"PORTAL_CONFIG: $.retention.events["order.created"]: expected"#))
        }
    }

    @Test(
        "the data layer purges old events of a ruled type shortly after start and audits it",
        arguments: ["serve", "data-layer"])
    func purgesAfterStart(command: String) throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let now = Int64(Date().timeIntervalSince1970)
        // Events written 40 days ago and today, as the store saw them then.
        let clock = ManualClock(unixSeconds: now - 40 * Self.day)
        var store: SQLiteEventStore? = try SQLiteEventStore(directory: dir.path, clock: clock)
        func append(_ type: String) throws -> String {
            try store!.append(
                NewEvent(
                    eventType: type, aggregateType: "order", aggregateID: "o-1", payloadJSON: "{}",
                    metadataJSON: "{}")
            ).id
        }
        let oldCreated = try append("order.created")
        let oldPaid = try append("order.paid")
        clock.advance(seconds: 40 * Double(Self.day))
        let newCreated = try append("order.created")
        store = nil

        var env = PortalProcess.baseEnvironment(dataDirectory: dir)
        env["PORTAL_CONFIG"] = try Self.config(dir, retention: #"{"events": {"order.created": "30d"}}"#)
        env["RETENTION_PURGE_INTERVAL_SECONDS"] = "1"
        let listeners: Set<String> = command == "serve" ? ["gateway", "admin", "data layer"] : ["data layer"]
        let portal = try RunningPortal(
            environment: env, directory: dir, expectedListeners: listeners, command: command)
        let auditPath = dir.appendingPathComponent("audit.log").path
        let deadline = Date().addingTimeInterval(15)
        var audit = ""
        while !audit.contains("data.purged") && Date() < deadline {
            usleep(100_000)
            audit = (try? String(contentsOfFile: auditPath, encoding: .utf8)) ?? ""
        }
        #expect(portal.terminate() == 0)
        audit = (try? String(contentsOfFile: auditPath, encoding: .utf8)) ?? ""

        let record = try #require(
            audit.split(separator: "\n").compactMap { line in
                try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            }.first { $0["type"] as? String == "data.purged" })
        #expect(record["outcome"] as? String == "success")
        let reason = try #require(record["reason"] as? String)
        #expect(reason.hasPrefix("event_type:order.created;cutoff:") && reason.hasSuffix(";deleted:1"), "\(reason)")
        let reopened = try SQLiteEventStore(directory: dir.path)
        #expect(try reopened.event(id: oldCreated) == nil)
        #expect(try reopened.event(id: oldPaid) != nil, "a type without a rule is kept")
        #expect(try reopened.event(id: newCreated) != nil)
    }
}
