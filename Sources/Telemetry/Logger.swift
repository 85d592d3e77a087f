import PortalCore

/// A structured logger: one line per event, JSON or text, to an injected sink. Passed in, never global.
///
/// Each event is a constant message (a `StaticString`, so data cannot slip into it) plus metadata
/// with dotted keys (`request.id`). Redaction: a metadata key containing `secret`, `password`,
/// `token`, `authorization` or `key` (any case) has its value written as `[REDACTED]`, unless the
/// value is `LogValue.safe`. Time is RFC 3339 UTC with milliseconds, from the injected clock.
///
/// JSON lines are always one valid JSON object (every control byte escaped; strings are Swift
/// strings, so always valid UTF-8). Metadata keys named `time`, `level` or `message` are written as
/// `meta.time` and so on, so they never shadow the event's own fields.
public struct Logger: Sendable {
    /// Severity, lowest first.
    public enum Level: Int, Sendable, Comparable, CaseIterable {
        case trace, debug, info, notice, warning, error

        /// The lowercase name written in lines and read from `LOG_LEVEL`.
        public var name: String {
            switch self {
            case .trace: "trace"
            case .debug: "debug"
            case .info: "info"
            case .notice: "notice"
            case .warning: "warning"
            case .error: "error"
            }
        }

        /// Parses a name in any case (`warn` too); nil for anything else.
        public init?(name: String) {
            let lowered = name.lowercased()
            if lowered == "warn" {
                self = .warning
                return
            }
            guard let level = Level.allCases.first(where: { $0.name == lowered }) else { return nil }
            self = level
        }

        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// Line format.
    public enum Format: String, Sendable, CaseIterable {
        /// One JSON object per line.
        case json
        /// `time level message key=value ...`, values quoted when needed.
        case text
    }

    /// Events below this level are dropped before their metadata is built.
    public let level: Level
    /// How lines are written.
    public let format: Format
    let sink: any LogSink
    let clock: any PortalClock
    let baseMetadata: [String: LogValue]

    /// - Parameters:
    ///   - level: threshold; default `.info`.
    ///   - format: default `.json`.
    ///   - sink: default `StandardErrorSink()` (fd 2).
    ///   - clock: wall-clock source for timestamps; default `SystemClock()`.
    ///   - metadata: added to every event; default none.
    public init(
        level: Level = .info,
        format: Format = .json,
        sink: any LogSink = StandardErrorSink(),
        clock: any PortalClock = SystemClock(),
        metadata: [String: LogValue] = [:]
    ) {
        self.level = level
        self.format = format
        self.sink = sink
        self.clock = clock
        self.baseMetadata = metadata
    }

    /// A logger that adds `metadata` to every event; event metadata wins on the same key.
    public func with(_ metadata: [String: LogValue]) -> Logger {
        Logger(
            level: level, format: format, sink: sink, clock: clock,
            metadata: baseMetadata.merging(metadata) { _, new in new })
    }

    /// Whether an event at `level` would be written.
    public func isEnabled(_ level: Level) -> Bool { level >= self.level }

    /// Writes one event if `level` passes the threshold; `metadata` is only evaluated then.
    public func log(_ level: Level, _ message: StaticString, _ metadata: @autoclosure () -> [String: LogValue] = [:]) {
        guard isEnabled(level) else { return }
        let merged = baseMetadata.isEmpty ? metadata() : baseMetadata.merging(metadata()) { _, new in new }
        let line = LogLineWriter.line(
            format: format, unixNanoseconds: clock.unixNanoseconds(), level: level,
            message: message.description, metadata: merged)
        sink.write(line)
    }

    /// `log(.trace, ...)`
    public func trace(_ message: StaticString, _ metadata: @autoclosure () -> [String: LogValue] = [:]) {
        log(.trace, message, metadata())
    }

    /// `log(.debug, ...)`
    public func debug(_ message: StaticString, _ metadata: @autoclosure () -> [String: LogValue] = [:]) {
        log(.debug, message, metadata())
    }

    /// `log(.info, ...)`
    public func info(_ message: StaticString, _ metadata: @autoclosure () -> [String: LogValue] = [:]) {
        log(.info, message, metadata())
    }

    /// `log(.notice, ...)`
    public func notice(_ message: StaticString, _ metadata: @autoclosure () -> [String: LogValue] = [:]) {
        log(.notice, message, metadata())
    }

    /// `log(.warning, ...)`
    public func warning(_ message: StaticString, _ metadata: @autoclosure () -> [String: LogValue] = [:]) {
        log(.warning, message, metadata())
    }

    /// `log(.error, ...)`
    public func error(_ message: StaticString, _ metadata: @autoclosure () -> [String: LogValue] = [:]) {
        log(.error, message, metadata())
    }
}
