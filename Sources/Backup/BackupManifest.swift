import PortalCore

/// What a backup holds, written as the stream's last record and so authenticated like every byte before it.
public struct BackupManifest: Sendable, Equatable {
    /// One part of the stream: a SQLite database file, a PostgreSQL table's rows, or its sequences.
    public struct Part: Sendable, Equatable {
        /// `events.db`, `mcp_documents.events`, `mcp_documents#sequences`, ...
        public var name: String
        /// `sqlite-database`, `postgres-table` or `postgres-sequences`.
        public var kind: String
        /// The part's bytes in the stream and their SHA-256 (lower-case hex).
        public var byteCount: Int64
        public var sha256: String
        /// The tables the part holds and their row counts at the snapshot.
        public var tables: [Table]
        /// A PostgreSQL table's columns, in the order of its COPY data; empty for other parts.
        public var columns: [String]

        public init(
            name: String, kind: String, byteCount: Int64 = 0, sha256: String = "", tables: [Table] = [],
            columns: [String] = []
        ) {
            self.name = name
            self.kind = kind
            self.byteCount = byteCount
            self.sha256 = sha256
            self.tables = tables
            self.columns = columns
        }
    }

    /// A table and its row count.
    public struct Table: Sendable, Equatable {
        public var name: String
        public var rows: Int64

        public init(name: String, rows: Int64) {
            self.name = name
            self.rows = rows
        }
    }

    /// The migrations a database or schema had applied.
    public struct SchemaVersion: Sendable, Equatable {
        /// `events.db`, `credentials.db`, `mcp_documents`.
        public var name: String
        public var versions: [Int64]

        public init(name: String, versions: [Int64]) {
            self.name = name
            self.versions = versions
        }
    }

    /// Always 1 for files this build writes.
    public var formatVersion: Int64 = 1
    /// `sqlite` or `postgresql`.
    public var store: String
    /// When the snapshot was taken, microseconds since the Unix epoch.
    public var createdAtMicroseconds: Int64
    public var schemaVersions: [SchemaVersion]
    public var parts: [Part]

    public init(store: String, createdAtMicroseconds: Int64, schemaVersions: [SchemaVersion], parts: [Part]) {
        self.store = store
        self.createdAtMicroseconds = createdAtMicroseconds
        self.schemaVersions = schemaVersions
        self.parts = parts
    }

    /// The total number of rows over every table of every part.
    public var totalRows: Int64 { parts.reduce(0) { $0 + $1.tables.reduce(0) { $0 + $1.rows } } }
}

extension BackupManifest {
    /// Compact JSON, members in a fixed order.
    func serialized() -> [UInt8] {
        func number(_ value: Int64) -> JSONValue { .number(JSONNumber(text: String(value))) }
        func object(_ members: [(String, JSONValue)]) -> JSONValue {
            .object(JSONObject(members: members.map { JSONObject.Member(name: $0.0, value: $0.1) }))
        }
        let parts = parts.map { part in
            object([
                ("name", .string(part.name)), ("kind", .string(part.kind)), ("bytes", number(part.byteCount)),
                ("sha256", .string(part.sha256)),
                (
                    "tables",
                    .array(part.tables.map { object([("name", .string($0.name)), ("rows", number($0.rows))]) })
                ),
                ("columns", .array(part.columns.map { .string($0) })),
            ])
        }
        let schema = schemaVersions.map {
            object([("name", .string($0.name)), ("versions", .array($0.versions.map(number)))])
        }
        return object([
            ("format", number(formatVersion)), ("store", .string(store)),
            ("created_at", .string(RFC3339.format(unixMicroseconds: createdAtMicroseconds))),
            ("created_at_us", number(createdAtMicroseconds)), ("schema_versions", .array(schema)),
            ("parts", .array(parts)),
        ]).serialized()
    }

    /// Parses the manifest record.
    /// - Throws: `BackupError` (`malformed`) naming the member that is missing or of the wrong type.
    init(json bytes: [UInt8]) throws {
        let value: JSONValue
        do {
            value = try JSONParser().parse(bytes)
        } catch {
            throw BackupError.malformed("the manifest is not JSON (\(error.description))")
        }
        func int(_ value: JSONValue?, _ name: String) throws -> Int64 {
            guard let number = value?.numberValue?.int64 else { throw BackupError.malformed("manifest member \(name)") }
            return number
        }
        func string(_ value: JSONValue?, _ name: String) throws -> String {
            guard let text = value?.stringValue else { throw BackupError.malformed("manifest member \(name)") }
            return text
        }
        func array(_ value: JSONValue?, _ name: String) throws -> [JSONValue] {
            guard let elements = value?.arrayValue else { throw BackupError.malformed("manifest member \(name)") }
            return elements
        }
        formatVersion = try int(value["format"], "format")
        store = try string(value["store"], "store")
        createdAtMicroseconds = try int(value["created_at_us"], "created_at_us")
        var schemaVersions: [SchemaVersion] = []
        for entry in try array(value["schema_versions"], "schema_versions") {
            var versions: [Int64] = []
            for version in try array(entry["versions"], "schema_versions.versions") {
                versions.append(try int(version, "schema_versions.versions"))
            }
            schemaVersions.append(
                SchemaVersion(name: try string(entry["name"], "schema_versions.name"), versions: versions))
        }
        self.schemaVersions = schemaVersions
        var parts: [Part] = []
        for entry in try array(value["parts"], "parts") {
            var part = Part(
                name: try string(entry["name"], "parts.name"), kind: try string(entry["kind"], "parts.kind"))
            part.byteCount = try int(entry["bytes"], "parts.bytes")
            part.sha256 = try string(entry["sha256"], "parts.sha256")
            for table in try array(entry["tables"], "parts.tables") {
                part.tables.append(
                    Table(name: try string(table["name"], "tables.name"), rows: try int(table["rows"], "tables.rows")))
            }
            for column in try array(entry["columns"], "parts.columns") {
                part.columns.append(try string(column, "parts.columns"))
            }
            parts.append(part)
        }
        self.parts = parts
    }
}
