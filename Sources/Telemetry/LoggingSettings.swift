/// The logger's settings as read from the environment: `LOG_LEVEL` and `LOG_FORMAT`.
///
/// - `LOG_LEVEL`: `trace`, `debug`, `info`, `notice`, `warning` (or `warn`), `error`, any case;
///   default `info`.
/// - `LOG_FORMAT`: `json` or `text`, any case; default `json`.
public struct LoggingSettings: Sendable, Hashable {
    /// The threshold.
    public var level: Logger.Level
    /// The line format.
    public var format: Logger.Format

    /// A bad setting; `description` names the variable and what it accepts, and does not echo the value.
    public struct InvalidSetting: Error, CustomStringConvertible, Sendable {
        /// The environment variable at fault.
        public let variable: String
        /// One line for the operator.
        public let description: String
    }

    /// - Parameters: level default `.info`; format default `.json`.
    public init(level: Logger.Level = .info, format: Logger.Format = .json) {
        self.level = level
        self.format = format
    }

    /// Reads `LOG_LEVEL` and `LOG_FORMAT` from `environment`; unset or empty means the default.
    /// - Throws: `InvalidSetting` naming the variable when a value is not one it accepts.
    public init(environment: [String: String]) throws {
        self.init()
        if let raw = environment["LOG_LEVEL"], !raw.isEmpty {
            guard let level = Logger.Level(name: raw) else {
                throw InvalidSetting(
                    variable: "LOG_LEVEL",
                    description: "LOG_LEVEL accepts trace, debug, info, notice, warning, error")
            }
            self.level = level
        }
        if let raw = environment["LOG_FORMAT"], !raw.isEmpty {
            guard let format = Logger.Format(rawValue: raw.lowercased()) else {
                throw InvalidSetting(variable: "LOG_FORMAT", description: "LOG_FORMAT accepts json, text")
            }
            self.format = format
        }
    }

    /// A logger with these settings on `sink` (default fd 2).
    public func makeLogger(sink: any LogSink = StandardErrorSink()) -> Logger {
        Logger(level: level, format: format, sink: sink)
    }
}
