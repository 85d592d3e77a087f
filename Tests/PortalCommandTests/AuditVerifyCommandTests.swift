import Foundation
import Testing

/// `portal audit verify` against the trail a real `portal serve` wrote, then against tampered copies of it.
@Suite("portal audit verify")
struct AuditVerifyCommandTests {
    /// Runs `portal serve`, makes it audit a few denials, stops it cleanly (which writes the last checkpoint).
    private func writeTrail(_ dir: URL, _ env: [String: String]) throws -> URL {
        let portal = try RunningPortal(
            environment: env, directory: dir, expectedListeners: ["gateway", "admin", "data layer"])
        let gateway = "http://127.0.0.1:\(try #require(portal.ports["gateway"]))"
        for _ in 0..<6 { _ = try Curl.request(["\(gateway)/api/v1/events"]) }
        #expect(portal.terminate() == 0)
        return dir.appendingPathComponent("audit.log")
    }

    private func verify(_ env: [String: String], _ dir: URL, _ extra: [String] = []) throws -> PortalProcess.Outcome {
        try PortalProcess.run(["audit", "verify"] + extra, environment: env, in: dir)
    }

    @Test("an intact trail verifies; an edited byte, a deleted or swapped record and a cut tail are each named")
    func tamperingIsNamed() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let env = PortalProcess.baseEnvironment(dataDirectory: dir)
        let file = try writeTrail(dir, env)
        let original = try String(contentsOf: file, encoding: .utf8)
        let lines = original.split(separator: "\n").map(String.init)
        #expect(lines.count == 6)

        let intact = try verify(env, dir)
        #expect(intact.status == 0, "\(intact.stderr)")
        #expect(
            intact.stdout.contains("6 records (records 1-6), 1 checkpoints, the last at record 6"), "\(intact.stdout)")

        let cases: [(String, [String], String)] = [
            (
                "edit",
                [lines[0], lines[1], lines[2].replacingOccurrences(of: "missing", with: "mizzing")] + lines[3...],
                "record 3 (line 3): hash does not match its content (edited)"
            ),
            ("delete", Array(lines[0..<3] + lines[4...]), "record 4 is missing (deleted)"),
            ("swap", [lines[0], lines[2], lines[1]] + lines[3...], "record 3 (line 2) is out of order"),
            ("cut", Array(lines[0..<4]), "truncated: a checkpoint names record 6 but the file ends at record 4"),
            ("head cut", Array(lines[2...]), "records 1-2 missing: the trail starts at record 3"),
            ("first record cut", Array(lines[1...]), "record 1 missing: the trail starts at record 2"),
        ]
        for (name, tampered, expected) in cases {
            try (tampered.joined(separator: "\n") + "\n").write(to: file, atomically: false, encoding: .utf8)
            let outcome = try verify(env, dir)
            #expect(outcome.status == 1, "\(name)")
            #expect(outcome.stderr.contains(expected), "\(name): \(outcome.stderr)")
            #expect(outcome.stderrLines.count == 1, "\(name): \(outcome.stderr)")
        }

        // From record 5 on, an edit of record 3 is outside what is checked; the cut tail still is not.
        var edited = lines
        edited[2] = edited[2].replacingOccurrences(of: "missing", with: "mizzing")
        try (edited.joined(separator: "\n") + "\n").write(to: file, atomically: false, encoding: .utf8)
        #expect(try verify(env, dir, ["--from", "5"]).status == 0)
        #expect(try verify(env, dir, ["--from", "x"]).status == 2)

        // Where retention retires the oldest files, a trail that starts later is expected, and said so.
        try (lines[2...].joined(separator: "\n") + "\n").write(to: file, atomically: false, encoding: .utf8)
        var retaining = env
        retaining["AUDIT_RETENTION_DAYS"] = "30"
        let retained = try verify(retaining, dir)
        #expect(retained.status == 0, "\(retained.stderr)")
        #expect(retained.stdout.contains("records 1-2 retired by AUDIT_RETENTION_DAYS"), "\(retained.stdout)")
    }

    @Test("a trail checked under another AUDIT_HMAC_KEY fails on its first record")
    func wrongKey() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var env = PortalProcess.baseEnvironment(dataDirectory: dir)
        env["AUDIT_HMAC_KEY"] = String(repeating: "k", count: 32)
        _ = try writeTrail(dir, env)
        #expect(try verify(env, dir).status == 0)
        env["AUDIT_HMAC_KEY"] = String(repeating: "q", count: 32)
        let outcome = try verify(env, dir)
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("record 1 (line 1): hash does not match"), "\(outcome.stderr)")
        #expect(!outcome.stderr.contains("qqqq") && !outcome.stderr.contains("kkkk"))
    }
}
