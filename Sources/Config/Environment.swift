import Foundation

/// The variables that settings are read from: the real process environment, plus a `.env` file when present.
///
/// A `.env` value never overrides the real environment. Every variable whose name ends in `_PASSWORD`,
/// `_SECRET`, `_KEY`, `_KEYS` or `_KEY_PREVIOUS` may instead be given through a `*_FILE` twin naming a file whose
/// contents (minus one trailing newline) are the value, as Docker secrets are mounted. The twin is read when the
/// variable is asked for, so an unrelated broken `*_FILE` never stops start-up.
public struct Environment: Sendable {
    /// The merged variables: real environment first, `.env` filling the gaps.
    public let variables: [String: String]
    private let readFile: @Sendable (String) -> String?

    /// An environment over exactly `variables`; `readFile` returns a file's text or nil when unreadable
    /// (defaults to reading the file system).
    public init(
        variables: [String: String],
        readFile: @escaping @Sendable (String) -> String? = Environment.readFileFromDisk
    ) {
        self.variables = variables
        self.readFile = readFile
    }

    /// The real process environment merged with `dotEnvPath` (default `.env` in the working directory) when
    /// that file exists.
    ///
    /// - Throws: `ConfigError` naming the file and line of a malformed `.env` line, or naming the file when it
    ///   exists but cannot be read.
    public static func load(
        processEnvironment: [String: String] = ProcessInfo.processInfo.environment,
        dotEnvPath: String = ".env",
        readFile: @escaping @Sendable (String) -> String? = Environment.readFileFromDisk
    ) throws(ConfigError) -> Environment {
        var merged = processEnvironment
        if FileManager.default.fileExists(atPath: dotEnvPath) {
            guard let text = readFile(dotEnvPath) else {
                throw ConfigError.malformedDotEnv(file: dotEnvPath, line: 0, reason: "cannot read the file")
            }
            let fileValues = try DotEnvParser.parse(text, fileName: dotEnvPath)
            merged.merge(fileValues) { real, _ in real }
        }
        return Environment(variables: merged, readFile: readFile)
    }

    /// Reads a UTF-8 file; nil when it is missing, unreadable or not UTF-8.
    @Sendable public static func readFileFromDisk(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(data: data, encoding: .utf8)
    }

    /// Whether `name` may be given through a `*_FILE` twin.
    public static func acceptsFileTwin(_ name: String) -> Bool {
        ["_PASSWORD", "_SECRET", "_KEY", "_KEYS", "_KEY_PREVIOUS"].contains { name.hasSuffix($0) }
    }

    /// The raw value of `name`, resolving its `*_FILE` twin; nil when neither is set.
    ///
    /// - Throws: `ConfigError` when both `name` and `name_FILE` are set, or the file cannot be read.
    public func value(_ name: String) throws(ConfigError) -> String? {
        let direct = variables[name]
        guard Self.acceptsFileTwin(name) else { return direct }
        let fileVariable = name + "_FILE"
        guard let path = variables[fileVariable] else { return direct }
        guard direct == nil else { throw ConfigError.conflictingSources(name, fileVariable) }
        guard let contents = readFile(path) else { throw ConfigError.unreadableFile(fileVariable, path: path) }
        // Strip exactly one trailing newline, as `echo secret > file` writes one.
        // In Swift "\r\n" is one Character, so one dropLast removes either ending whole.
        let endsInNewline = contents.hasSuffix("\n") || contents.hasSuffix("\r\n")
        return endsInNewline ? String(contents.dropLast()) : contents
    }
}
