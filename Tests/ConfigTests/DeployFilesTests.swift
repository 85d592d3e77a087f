import Foundation
import Testing

/// Checks the files under `deploy/` with the real tools; `make test` installs them, so a missing tool fails.
@Suite("deploy files")
struct DeployFilesTests {
    /// The repository root, found from this file's path (Tests/ConfigTests/ -> ../..).
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    private static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.currentDirectoryURL = root
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test("promtool accepts the alert rules and they hold the guide's two security alerts")
    func alertRules() throws {
        let result = try Self.run(["promtool", "check", "rules", "deploy/prometheus/alerts.yml"])
        #expect(result.status == 0, "promtool: \(result.output)")
        let text = try String(
            contentsOf: Self.root.appendingPathComponent("deploy/prometheus/alerts.yml"), encoding: .utf8)
        #expect(text.contains("alert: HighFailedAuthRate") && text.contains("rate(auth_failures_total[5m]) > 10"))
        #expect(
            text.contains("alert: UnauthorizedAccessAttempt")
                && text.contains("increase(unauthorized_access_total[5m]) > 5"))
        #expect(text.contains("rate_limited_total"))
    }

    @Test("promtool accepts the scrape config")
    func scrapeConfig() throws {
        let result = try Self.run(["promtool", "check", "config", "deploy/prometheus/prometheus.yml"])
        #expect(result.status == 0, "promtool: \(result.output)")
    }

    @Test("the systemd unit keeps its hardening")
    func systemdUnit() throws {
        let url = Self.root.appendingPathComponent("deploy/systemd/portal.service")
        let text = try String(contentsOf: url, encoding: .utf8)
        for line in [
            "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "CapabilityBoundingSet=",
            "DynamicUser=yes", "ReadWritePaths=/var/lib/portal",
        ] {
            #expect(text.split(separator: "\n").contains(Substring(line)), "missing \(line)")
        }
    }
}
