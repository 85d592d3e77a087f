import CLibPQ

/// How to reach PostgreSQL: libpq connection parameters plus the client's own time limits.
///
/// Holds the password when one is configured: never print the parameters. `description` shows only
/// the host, port, database, user and sslmode.
public struct PostgresConnectionOptions: Sendable, CustomStringConvertible {
    /// libpq keywords and values, in order; a later keyword overrides an earlier one.
    let parameters: [(keyword: String, value: String)]
    /// The longest one operation may take (waiting for a pooled connection, connecting, each statement),
    /// in nanoseconds. The server's `statement_timeout` is set to the same, so a query stuck behind a lock
    /// is cancelled by the server and the connection stays usable; the client's own deadline catches a
    /// server that stopped answering at all.
    public let timeoutNanoseconds: UInt64
    /// What `description` shows.
    private let summary: String

    /// Options from a `postgres://` or `postgresql://` URI, with `overrides` applied after it.
    /// - Parameters:
    ///   - url: a libpq connection URI (`DATABASE_URL`); its query may set `sslmode`, `sslrootcert` and so on.
    ///   - overrides: keywords that take precedence over the URI's, for example an explicit `sslmode`.
    ///   - timeoutSeconds: see `timeoutNanoseconds`; default 5 s.
    /// - Throws: `StoreError` (`configuration`) when libpq cannot parse the URI; the URI is never repeated.
    public init(url: String, overrides: [String: String] = [:], timeoutSeconds: Double = 5) throws {
        guard !url.utf8.contains(0), let parsed = Self.parse(url) else { throw StoreError.invalidConnectionOptions }
        var merged = parsed
        for (keyword, value) in overrides.sorted(by: { $0.key < $1.key }) {
            merged.removeAll { $0.keyword == keyword }
            merged.append((keyword, value))
        }
        try self.init(parameters: merged, timeoutSeconds: timeoutSeconds)
    }

    /// Options from individual libpq keywords (`host`, `port`, `dbname`, `user`, `password`, `sslmode`, ...).
    /// - Throws: `StoreError` (`configuration`) when a value holds a NUL byte or a keyword is unknown to libpq.
    public init(parameters: [(keyword: String, value: String)], timeoutSeconds: Double = 5) throws {
        precondition(timeoutSeconds > 0, "a PostgreSQL timeout is positive")
        let known = Self.knownKeywords()
        for (keyword, value) in parameters {
            guard known.contains(keyword), !value.utf8.contains(0) else { throw StoreError.invalidConnectionOptions }
        }
        var all = parameters
        // Session defaults the product relies on, unless the operator set them: a name in pg_stat_activity,
        // a bounded connect, and keepalives so that a peer that vanished is noticed.
        let timeoutWholeSeconds = max(2, Int(timeoutSeconds.rounded(.up)))
        let defaults = [
            ("fallback_application_name", "story-portal"), ("connect_timeout", String(timeoutWholeSeconds)),
            ("keepalives", "1"), ("keepalives_idle", "30"), ("keepalives_interval", "10"),
            ("keepalives_count", "3"),
        ]
        for (keyword, value) in defaults where !all.contains(where: { $0.keyword == keyword }) {
            all.append((keyword, value))
        }
        self.parameters = all
        timeoutNanoseconds = UInt64(timeoutSeconds * 1_000_000_000)
        let value = { (keyword: String) in all.last { $0.keyword == keyword }?.value }
        summary =
            "host=\(value("host") ?? "(default)") port=\(value("port") ?? "5432") "
            + "dbname=\(value("dbname") ?? "(default)") user=\(value("user") ?? "(default)") "
            + "sslmode=\(value("sslmode") ?? "prefer")"
    }

    /// The value of `keyword` as configured, or nil.
    public func value(of keyword: String) -> String? { parameters.last { $0.keyword == keyword }?.value }

    public var description: String { summary }

    /// The same options with `keyword` set to `value` (for example another `user` and `password`).
    public func setting(_ keyword: String, to value: String) throws -> PostgresConnectionOptions {
        var copy = parameters.filter { $0.keyword != keyword }
        copy.append((keyword, value))
        return try PostgresConnectionOptions(parameters: copy, timeoutSeconds: Double(timeoutNanoseconds) / 1e9)
    }

    /// The URI's parameters as libpq reads them, or nil when it is malformed.
    private static func parse(_ url: String) -> [(keyword: String, value: String)]? {
        var error: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(url, &error) else {
            // The message may quote part of the URI (a password among it): drop it unread.
            if let error { PQfreemem(error) }
            return nil
        }
        defer { PQconninfoFree(options) }
        var result: [(keyword: String, value: String)] = []
        var cursor = options
        while let keyword = cursor.pointee.keyword {
            if let value = cursor.pointee.val { result.append((String(cString: keyword), String(cString: value))) }
            cursor += 1
        }
        return result
    }

    /// Every keyword this libpq understands.
    private static func knownKeywords() -> Set<String> {
        guard let defaults = PQconndefaults() else { return [] }
        defer { PQconninfoFree(defaults) }
        var keywords: Set<String> = []
        var cursor = defaults
        while let keyword = cursor.pointee.keyword {
            keywords.insert(String(cString: keyword))
            cursor += 1
        }
        return keywords
    }
}
