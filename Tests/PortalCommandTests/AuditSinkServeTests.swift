import Foundation
import Testing

/// `portal serve` with a failing audit file: the audit metrics, `AUDIT_FAIL_MODE` open and closed, end to end.
@Suite("portal serve: audit sinks, fail mode and metrics")
struct AuditSinkServeTests {
    /// A running `portal serve` whose audit file lives in its own directory, which the test can take away.
    struct Served {
        let directory: URL
        let auditDirectory: String
        let portal: RunningPortal
        let gateway: String
        let admin: String

        init(_ extra: [String: String]) throws {
            directory = try PortalProcess.temporaryDirectory()
            auditDirectory = directory.path + "/audit"
            try FileManager.default.createDirectory(atPath: auditDirectory, withIntermediateDirectories: true)
            var env = PortalProcess.baseEnvironment(dataDirectory: directory.appendingPathComponent("data"))
            env["AUDIT_LOG_DESTINATION"] = auditDirectory + "/audit.log"
            env["AUDIT_VERIFY_INTERVAL_SECONDS"] = "1"
            env.merge(extra) { _, new in new }
            portal = try RunningPortal(
                environment: env, directory: directory, expectedListeners: ["gateway", "admin", "data layer"])
            gateway = "http://127.0.0.1:\(try #require(portal.ports["gateway"]))"
            admin = "http://127.0.0.1:\(try #require(portal.ports["admin"]))"
        }

        /// An unauthenticated request to a protected route: 401, and one `auth.failure` record.
        func deny() throws -> Curl.Response { try Curl.request(["\(gateway)/api/v1/events"]) }

        func metrics() throws -> String { try Curl.request(["\(admin)/metrics"]).body }

        /// The value of the sample `series` (name with its labels, exactly as exposed); nil when absent.
        func sample(_ series: String) throws -> Double? {
            for line in try metrics().split(separator: "\n") where line.hasPrefix(series + " ") {
                return Double(line.dropFirst(series.count + 1))
            }
            return nil
        }

        /// Moves the audit directory aside and puts a regular file in its place: opening the audit file fails
        /// with ENOTDIR, even for root.
        func takeAuditDirectoryAway() throws {
            try FileManager.default.moveItem(atPath: auditDirectory, toPath: auditDirectory + ".aside")
            #expect(FileManager.default.createFile(atPath: auditDirectory, contents: Data("x".utf8)))
        }

        func giveAuditDirectoryBack() throws {
            try FileManager.default.removeItem(atPath: auditDirectory)
            try FileManager.default.moveItem(atPath: auditDirectory + ".aside", toPath: auditDirectory)
        }

        func auditLines() throws -> [Substring] {
            try String(contentsOfFile: auditDirectory + "/audit.log", encoding: .utf8).split(separator: "\n")
        }
    }

    /// Polls `condition` every 50 ms until it holds or `seconds` pass.
    private func eventually(within seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(50_000)
        }
        return try condition()
    }

    /// Runs `promtool check metrics` on `text`; returns its exit status and output.
    private func promtoolCheck(_ text: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/promtool")
        process.arguments = ["check", "metrics"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test(
        "open: the audit file gone, requests are served, the store keeps receiving, errors are counted; metrics pass promtool"
    )
    func failOpenCountsAndStoreReceives() throws {
        let served = try Served(["AUDIT_FAIL_MODE": "open"])
        defer { try? FileManager.default.removeItem(at: served.directory) }
        for _ in 0..<5 { #expect(try served.deny().status == 401) }
        #expect(
            try eventually(within: 20) {
                try served.sample(#"audit_records_total{sink="file"}"#) == 5
                    && served.sample(#"audit_records_total{sink="store"}"#) == 5
                    && served.sample("audit_last_verified_seq") == 5
            }, "\((try? served.metrics()) ?? "")")
        let check = try promtoolCheck(try served.metrics())
        #expect(check.status == 0, "\(check.output)")

        // The file cannot be opened: requests are still served, the store takes the records, errors count.
        try served.takeAuditDirectoryAway()
        for _ in 0..<3 { #expect(try served.deny().status == 401) }
        #expect(
            try eventually(within: 20) {
                try served.sample(#"audit_sink_errors_total{sink="file",kind="open"}"#) ?? 0 > 0
                    && served.sample(#"audit_records_total{sink="store"}"#) == 8
                    && served.sample("audit_file_writable") == 0
            }, "\((try? served.metrics()) ?? "")")
        #expect(try served.sample(#"audit_records_total{sink="file"}"#) == 5)

        // The file is back: it gets the three records, in the chain, and the verifier follows.
        try served.giveAuditDirectoryBack()
        #expect(
            try eventually(within: 20) {
                try served.sample(#"audit_records_total{sink="file"}"#) == 8
                    && served.sample("audit_last_verified_seq") == 8
            }, "\((try? served.metrics()) ?? "")")
        #expect(served.portal.terminate() == 0)
        #expect(try served.auditLines().count == 8)
    }

    @Test("closed without a store sink: 503 E9960 while the audit file cannot be written, served again once it can")
    func failClosedRefusesUntilFileIsBack() throws {
        let served = try Served(["AUDIT_FAIL_MODE": "closed", "AUDIT_STORE_SINK": "false"])
        defer { try? FileManager.default.removeItem(at: served.directory) }
        // Every 401 is a denial the gateway accepted into the audit queue; each must reach the file in the end.
        var accepted = 0
        func deny() throws -> Curl.Response {
            let response = try served.deny()
            if response.status == 401 { accepted += 1 }
            return response
        }
        #expect(try deny().status == 401)

        try served.takeAuditDirectoryAway()
        // A denial may still be accepted into the queue before a write has failed; from then on nothing is served.
        _ = try deny()
        #expect(try eventually(within: 20) { try deny().status == 503 })
        let refused = try deny()
        #expect(refused.status == 503)
        #expect(refused.json.flatMap { ($0["error"] as? [String: Any])?["code"] as? String } == "E9960")
        #expect(try served.sample("audit_accepts_durably") == 0)

        try served.giveAuditDirectoryBack()
        #expect(try eventually(within: 20) { try deny().status == 401 })
        #expect(served.portal.terminate() == 0)
        // Every record the gateway accepted is in the file: nothing acknowledged was lost.
        let lines = try served.auditLines()
        #expect(accepted >= 2 && lines.count >= accepted, "\(accepted) accepted, \(lines.count) in the file: \(lines)")
        #expect(lines.allSatisfy { $0.contains("\"auth.failure\"") }, "\(lines)")
    }
}
