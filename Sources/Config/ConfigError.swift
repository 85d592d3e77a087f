import PortalCore

/// A configuration problem that stops start-up.
///
/// `description` is always one line naming the variable (or file) and what it accepts. A value read from a
/// secret variable (`*_PASSWORD`, `*_SECRET`, `*_KEY`, `*_KEYS`, `*_URL` with credentials) never appears in it.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: String, Sendable, Hashable {
        case invalidValue = "invalid_value"
        case missing = "missing"
        case conflictingSources = "conflicting_sources"
        case unreadableFile = "unreadable_file"
        case malformedDotEnv = "malformed_dotenv"
        case invalidRouteTable = "invalid_route_table"
        case weakSecret = "weak_secret"
    }

    private let code: Code
    /// The variable (or file, for `.env` problems) that the error is about.
    public let variable: String
    /// One line for operators: the variable, what it accepts and, for non-secret values, what it got.
    public let description: String

    /// A short, bounded identifier of the kind of problem, usable as a metric label.
    public var shortCode: String { code.rawValue }

    private init(_ code: Code, variable: String, description: String) {
        self.code = code
        self.variable = variable
        self.description = description
    }

    /// Longest excerpt of a bad value that an error message quotes, in characters.
    static let maximumQuotedLength = 64

    /// A value that does not parse; `got` is quoted only for non-secret variables.
    static func invalidValue(_ variable: String, expected: String, got value: String) -> ConfigError {
        let shown = isSecretName(variable) ? "" : ", got \(quoted(value))"
        return ConfigError(.invalidValue, variable: variable, description: "\(variable): expected \(expected)\(shown)")
    }

    /// A required variable that is not set.
    static func missing(_ variable: String, expected: String) -> ConfigError {
        ConfigError(.missing, variable: variable, description: "\(variable): is required: expected \(expected)")
    }

    /// A secret set both directly and through its `*_FILE` twin.
    static func conflictingSources(_ variable: String, _ fileVariable: String) -> ConfigError {
        let text = "\(variable) and \(fileVariable): both are set; set only one of them"
        return ConfigError(.conflictingSources, variable: variable, description: text)
    }

    /// A `*_FILE` twin naming a file that cannot be read; the contents are never shown.
    static func unreadableFile(_ fileVariable: String, path: String) -> ConfigError {
        let text = "\(fileVariable): cannot read the file \(quoted(path))"
        return ConfigError(.unreadableFile, variable: fileVariable, description: text)
    }

    /// A `.env` line that is not `KEY=VALUE`; the line's text is never shown.
    static func malformedDotEnv(file: String, line: Int, reason: String) -> ConfigError {
        ConfigError(.malformedDotEnv, variable: file, description: "\(file):\(line): \(reason)")
    }

    /// A problem in the `PORTAL_CONFIG` file, at a JSON path such as `$.routes[2].prefix`.
    static func invalidRouteTable(jsonPath: String, reason: String) -> ConfigError {
        ConfigError(.invalidRouteTable, variable: "PORTAL_CONFIG", description: "PORTAL_CONFIG: \(jsonPath): \(reason)")
    }

    /// A secret refused in production: missing, too short or a known example value.
    static func weakSecret(_ variable: String, reason: String) -> ConfigError {
        ConfigError(.weakSecret, variable: variable, description: "\(variable): \(reason) (PORTAL_ENV=production)")
    }

    /// Whether a variable holds a secret, so that its value never appears in an error.
    static func isSecretName(_ name: String) -> Bool {
        let suffixes = ["_PASSWORD", "_SECRET", "_KEY", "_KEYS", "_PASSWORD_FILE", "_SECRET_FILE", "_KEY_FILE"]
        return suffixes.contains { name.hasSuffix($0) } || name == "DATABASE_URL" || name == "REDIS_URL"
    }

    /// A JSON-quoted, length-bounded excerpt of a value, safe to put on one log line.
    static func quoted(_ value: String) -> String {
        guard value.count > maximumQuotedLength else { return JSONEscaping.quoted(value) }
        return JSONEscaping.quoted(value.prefix(maximumQuotedLength)) + "..."
    }
}
