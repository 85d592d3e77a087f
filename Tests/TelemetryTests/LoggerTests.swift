import Foundation
import PortalCore
import Telemetry
import Testing

/// Parses one JSON line into a dictionary, or nil when it is not one valid JSON object.
private func object(_ line: String) -> [String: Any]? {
    guard line.hasSuffix("\n"), line.dropLast().firstIndex(of: "\n") == nil else { return nil }
    let parsed = try? JSONSerialization.jsonObject(with: Data(line.utf8))
    return parsed as? [String: Any]
}

/// A clock stopped at any wall-clock reading, including before 1970 (ManualClock cannot go there).
private struct FixedWallClock: PortalClock {
    let unix: Int64
    init(unixNanoseconds: Int64) { unix = unixNanoseconds }
    func monotonicNanoseconds() -> UInt64 { 0 }
    func unixNanoseconds() -> Int64 { unix }
}

@Suite("Logger")
struct LoggerTests {
    let clock = ManualClock(unixSeconds: 1_767_225_600)

    @Test("events below the threshold are dropped without building their metadata")
    func levelFiltering() {
        for threshold in Logger.Level.allCases {
            let sink = MemoryLogSink()
            let logger = Logger(level: threshold, sink: sink, clock: clock)
            for level in Logger.Level.allCases {
                logger.log(level, "event", ["n": .int(level.rawValue)])
            }
            let written = sink.lines.compactMap { object($0)?["level"] as? String }
            #expect(written == Logger.Level.allCases.filter { $0 >= threshold }.map(\.name))
        }
        let sink = MemoryLogSink()
        nonisolated(unsafe) var evaluated = false
        Logger(level: .error, sink: sink, clock: clock).debug(
            "quiet",
            {
                evaluated = true
                return [:]
            }())
        #expect(!evaluated)
        #expect(sink.lines.isEmpty)
    }

    @Test("a JSON line carries time with milliseconds, level, message and dotted metadata")
    func jsonShape() throws {
        let sink = MemoryLogSink()
        clock.advance(nanoseconds: 7_123_456_789)
        let logger = Logger(sink: sink, clock: clock).with(["service": "gateway"])
        logger.info("request.done", ["request.id": "r-1", "http.status": 200, "ok": true, "took": .double(0.25)])
        let fields = try #require(object(sink.lines[0]))
        #expect(fields["time"] as? String == "2026-01-01T00:00:07.123Z")
        #expect(fields["level"] as? String == "info")
        #expect(fields["message"] as? String == "request.done")
        #expect(fields["request.id"] as? String == "r-1")
        #expect(fields["http.status"] as? Int == 200)
        #expect(fields["ok"] as? Bool == true)
        #expect(fields["took"] as? Double == 0.25)
        #expect(fields["service"] as? String == "gateway")
    }

    @Test("values under sensitive keys are redacted in both formats unless marked safe")
    func redaction() {
        let table: [(key: String, value: LogValue, shown: Bool)] = [
            ("jwt_secret", "s3cr3t-value", false),
            ("db.PASSWORD", "hunter2-value", false),
            ("auth.token", "eyJhbGciOi-value", false),
            ("http.Authorization", "Bearer abc-value", false),
            ("api_key", .int(424_242), false),
            ("redis.Key", .bool(true), false),
            ("key.fingerprint", .safe("sha256:ab12-value"), true),
            ("user.name", "alice-value", true),
        ]
        for format in Logger.Format.allCases {
            for row in table {
                let sink = MemoryLogSink()
                Logger(format: format, sink: sink, clock: clock).warning("check", [row.key: row.value])
                let line = sink.lines[0]
                let secretText: String
                switch row.value {
                case .string(let text), .safe(let text): secretText = text
                case .int(let number): secretText = String(number)
                case .bool(let flag): secretText = flag ? "true" : "false"
                case .double(let number): secretText = "\(number)"
                }
                #expect(line.contains(secretText) == row.shown, "\(format) \(row.key): \(line)")
                #expect(line.contains("[REDACTED]") != row.shown, "\(format) \(row.key): \(line)")
            }
        }
    }

    @Test("hostile metadata always yields one valid JSON object on one line")
    func hostileJSON() throws {
        let invalidUTF8 = String(decoding: [0x66, 0xFF, 0xC3, 0x28, 0xED, 0xA0, 0x80], as: UTF8.self)
        let hostile: [String] = [
            "quote\" and \\ backslash", "new\nline\r\n", "\u{0}\u{1}\u{1F}\u{7F}", "\u{2028}\u{2029}",
            invalidUTF8, "}\n{\"level\":\"error\"", "emoji 🦀", "",
        ]
        let sink = MemoryLogSink()
        let logger = Logger(level: .trace, sink: sink, clock: clock)
        for (index, text) in hostile.enumerated() {
            logger.trace("hostile", [text: .string(text), "n\(index)": .safe(text), "message": "fake", "time": 1])
            logger.notice("odd numbers", ["nan": .double(.nan), "inf": .double(.infinity)])
        }
        #expect(sink.lines.count == hostile.count * 2)
        for line in sink.lines {
            let fields = try #require(object(line), "not one JSON object: \(line)")
            #expect(fields["message"] as? String != "fake")
        }
        let first = try #require(object(sink.lines[0]))
        #expect(first["meta.message"] as? String == "fake")
        #expect(first["n0"] as? String == hostile[0])
    }

    @Test("text lines stay on one line and quote anything that is not plain")
    func textFormat() {
        let sink = MemoryLogSink()
        let logger = Logger(format: .text, sink: sink, clock: clock)
        logger.error("upstream.failed", ["upstream": "events", "reason": "reset by peer\nx=injected"])
        #expect(
            sink.lines == [
                "2026-01-01T00:00:00.000Z error upstream.failed reason=\"reset by peer\\nx=injected\" upstream=events\n"
            ])
    }

    @Test("LOG_LEVEL and LOG_FORMAT are read in any case, and a bad value names its variable")
    func settingsFromEnvironment() throws {
        let settings = try LoggingSettings(environment: ["LOG_LEVEL": "WARN", "LOG_FORMAT": "Text"])
        #expect(settings.level == .warning && settings.format == .text)
        let defaults = try LoggingSettings(environment: [:])
        #expect(defaults.level == .info && defaults.format == .json)
        let bad: [(variable: String, value: String)] = [("LOG_LEVEL", "verbose"), ("LOG_FORMAT", "xml\n")]
        for row in bad {
            do {
                _ = try LoggingSettings(environment: [row.variable: row.value])
                Issue.record("accepted \(row.variable)=\(row.value)")
            } catch let error as LoggingSettings.InvalidSetting {
                #expect(error.variable == row.variable)
                #expect(error.description.hasPrefix(row.variable))
            }
        }
    }

    @Test("timestamps are RFC 3339 UTC with milliseconds, also before 1970 and at leap days")
    func timestamps() {
        let table: [(nanoseconds: Int64, expected: String)] = [
            (0, "1970-01-01T00:00:00.000Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
            (951_782_400_999_999_999, "2000-02-29T00:00:00.999Z"),
            (1_767_225_599_500_000_000, "2025-12-31T23:59:59.500Z"),
        ]
        for row in table {
            let sink = MemoryLogSink()
            Logger(format: .text, sink: sink, clock: FixedWallClock(unixNanoseconds: row.nanoseconds)).info("t")
            #expect(sink.lines.first?.hasPrefix(row.expected + " ") == true, "\(row.nanoseconds)")
        }
    }
}
