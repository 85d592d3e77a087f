import Foundation
import Testing

/// The audit trail read back: `GET /api/v1/audit` through the gateway, `portal audit search` on SQLite and
/// PostgreSQL, and `portal audit tail`.
@Suite("portal: reading the audit trail")
struct AuditQueryCommandTests {
    /// Polls `condition` every 100 ms until it holds or `seconds` pass.
    private func eventually(within seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(100_000)
        }
        return try condition()
    }

    @Test(
        "a token with audit:read queries the trail through the gateway; portal audit search reads the store",
        arguments: ["sqlite", "postgres"])
    func queryAndSearch(backend: String) throws {
        let deployment = backend == "postgres" ? try PostgresDeployment() : nil
        let dir = try deployment?.directory ?? PortalProcess.temporaryDirectory()
        defer { if deployment == nil { try? FileManager.default.removeItem(at: dir) } }
        var env = PortalProcess.baseEnvironment(dataDirectory: dir.appendingPathComponent("serve"))
        if let deployment {
            env["DATABASE_URL"] = deployment.dataLayerURL()
            env["GATEWAY_POSTGRES_USER"] = "l09_service"
            env["GATEWAY_POSTGRES_PASSWORD"] = deployment.gatewayPassword
        }
        let portal = try RunningPortal(
            environment: env, directory: dir, expectedListeners: ["gateway", "admin", "data layer"])
        let gateway = "http://127.0.0.1:\(try #require(portal.ports["gateway"]))"
        func token(_ scope: String) throws -> String {
            try PortalProcess.run(["token", "issue", "--sub", "auditor", "--scope", scope], environment: env, in: dir)
                .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        for _ in 0..<4 { #expect(try Curl.request(["\(gateway)/api/v1/events"]).status == 401) }
        func search(_ arguments: [String]) throws -> PortalProcess.Outcome {
            try PortalProcess.run(["audit", "search"] + arguments, environment: env, in: dir)
        }
        #expect(
            try eventually(within: 20) {
                try search(["--type", "auth.failure"]).stdout.split(separator: "\n").count == 4
            })

        // Through the gateway: audit:read is required there, and the data layer checks it again.
        let reader = try token("audit:read")
        let query = try Curl.request([
            "\(gateway)/api/v1/audit?type=auth.failure&outcome=failure&limit=3", "-H",
            "Authorization: Bearer \(reader)",
        ])
        #expect(query.status == 200, "\(query.body)")
        let records = try #require(query.json?["records"] as? [[String: Any]])
        #expect(records.count == 3)
        #expect(records.allSatisfy { ($0["record"] as? [String: Any])?["type"] as? String == "auth.failure" })
        let next = try #require(query.json?["next_after"] as? String)
        let export = try Curl.request([
            "\(gateway)/api/v1/audit?type=auth.failure&after=\(next)", "-H", "Authorization: Bearer \(reader)",
            "-H", "Accept: application/x-ndjson",
        ])
        #expect(export.status == 200 && export.header("Content-Type") == "application/x-ndjson")
        #expect(export.body.split(separator: "\n").count == 1)
        let bad = try Curl.request([
            "\(gateway)/api/v1/audit?since=yesterday", "-H", "Authorization: Bearer \(reader)",
        ])
        #expect(bad.status == 400 && bad.body.contains("\"field\":\"since\""), "\(bad.body)")
        let other = try Curl.request([
            "\(gateway)/api/v1/audit", "-H", "Authorization: Bearer \(try token("events:read"))",
        ])
        #expect(other.status == 403)

        // The operator's commands: search with filters, strict options; tail of the file.
        let denied = try search(["--type", "auth.failure", "--outcome", "failure", "--since", "2000-01-01T00:00:00Z"])
        #expect(denied.status == 0)
        let lines = denied.stdout.split(separator: "\n")
        #expect(
            lines.count == 4 && lines.allSatisfy { $0.hasPrefix("{\"source\":") && $0.contains("\"auth.failure\"") })
        #expect(try search(["--type", "auth.failure", "--until", "2000-01-01T00:00:00Z"]).stdout.isEmpty)
        #expect(try search(["--type", "auth.failure", "--limit", "2"]).stdout.split(separator: "\n").count == 2)
        #expect(try search(["--outcome", "maybe"]).status == 2)
        #expect(try search(["--since", "today"]).status == 2)
        let tail = try PortalProcess.run(["audit", "tail", "--lines", "2"], environment: env, in: dir)
        #expect(tail.status == 0)
        let file = try String(contentsOf: dir.appendingPathComponent("serve/audit.log"), encoding: .utf8)
        #expect(tail.stdout == file.split(separator: "\n").suffix(2).joined(separator: "\n") + "\n")
        #expect(portal.terminate() == 0)
    }

    @Test("AUDIT_FILE_MAX_BYTES rotates the file; verify and tail read the compressed files; the store has it all")
    func rotationEndToEnd() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var env = PortalProcess.baseEnvironment(dataDirectory: dir)
        env["AUDIT_FILE_MAX_BYTES"] = "2000"
        env["RATE_LIMIT_BURST"] = "1000"
        let portal = try RunningPortal(
            environment: env, directory: dir, expectedListeners: ["gateway", "admin", "data layer"])
        let gateway = "http://127.0.0.1:\(try #require(portal.ports["gateway"]))"
        for _ in 0..<5 {
            for _ in 0..<6 { #expect(try Curl.request(["\(gateway)/api/v1/events"]).status == 401) }
            usleep(300_000)
        }
        #expect(
            try eventually(within: 20) {
                try PortalProcess.run(["audit", "search"], environment: env, in: dir).stdout
                    .split(separator: "\n").count == 30
            })
        #expect(portal.terminate() == 0)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(names.filter { $0.hasPrefix("audit.log.") && $0.hasSuffix(".z") }.count >= 2, "\(names)")

        let verified = try PortalProcess.run(["audit", "verify"], environment: env, in: dir)
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.contains(": 30 records (records 1-30)"), "\(verified.stdout)")
        let tail = try PortalProcess.run(["audit", "tail", "--lines", "25"], environment: env, in: dir)
        let sequences = tail.stdout.split(separator: "\n").compactMap { line -> Int? in
            guard let range = line.range(of: "\"sequence\":") else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
        #expect(sequences == Array(6...30))
    }

    @Test("portal audit tail -f prints records as they are synced")
    func tailFollows() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let env = PortalProcess.baseEnvironment(dataDirectory: dir)
        let portal = try RunningPortal(
            environment: env, directory: dir, expectedListeners: ["gateway", "admin", "data layer"])
        let gateway = "http://127.0.0.1:\(try #require(portal.ports["gateway"]))"
        #expect(try Curl.request(["\(gateway)/api/v1/events"]).status == 401)
        #expect(
            eventually(within: 10) {
                FileManager.default.fileExists(atPath: dir.appendingPathComponent("audit.log").path)
            })

        let tail = Process()
        tail.executableURL = PortalProcess.binary
        tail.arguments = ["audit", "tail", "-f", "--lines", "0"]
        tail.environment = env
        tail.currentDirectoryURL = dir
        // Into a file, polled: a blocking pipe read could outwait the test.
        let outPath = dir.appendingPathComponent("tail.out").path
        #expect(FileManager.default.createFile(atPath: outPath, contents: nil))
        tail.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        try tail.run()
        defer { kill(tail.processIdentifier, SIGKILL) }
        usleep(500_000)
        for _ in 0..<3 { #expect(try Curl.request(["\(gateway)/api/v1/events"]).status == 401) }
        var text = ""
        #expect(
            eventually(within: 10) {
                text = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
                return text.split(separator: "\n").count >= 3
            })
        let lines = text.split(separator: "\n")
        #expect(lines.count == 3 && lines.allSatisfy { $0.contains("\"auth.failure\"") })
        #expect(lines.first?.contains("\"sequence\":2") == true, "the record from before -f started is not repeated")
        #expect(portal.terminate() == 0)
    }
}
