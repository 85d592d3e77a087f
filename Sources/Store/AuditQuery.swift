import PortalCore

/// A search of stored audit records: every filter given must hold; results come in (source, sequence) order.
public struct AuditQuery: Sendable, Equatable {
    /// Only this gateway's chain.
    public var source: String?
    /// Only records of this type, e.g. `auth.failure`.
    public var type: String?
    /// Only records about this subject.
    public var subject: String?
    /// Only records with this outcome (`success`, `failure`, `denied`).
    public var outcome: String?
    /// Only records made at or after this time, in microseconds since the Unix epoch.
    public var sinceMicroseconds: Int64?
    /// Only records made before this time, in microseconds since the Unix epoch.
    public var untilMicroseconds: Int64?
    /// Only records after this position: the `next` cursor of the page before.
    public var after: AuditCursor?
    /// At most this many records; at least 1.
    public var limit: Int

    /// A query with no filter, from the start.
    public init(limit: Int) {
        precondition(limit > 0, "an audit query returns at least one record")
        self.limit = limit
    }

    /// A time filter: RFC 3339 UTC, `2026-12-04T16:00:00Z` or `2026-12-04T16:00:00.123456Z`, in microseconds since
    /// the Unix epoch; nil for anything else.
    public static func parseTime(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        if bytes.count == 20, bytes.last == UInt8(ascii: "Z") {
            return RFC3339.parse(String(decoding: bytes.dropLast(), as: UTF8.self) + ".000000Z")
        }
        return RFC3339.parse(text)
    }

    /// The conditions of the query as SQL over `audit_records`, with `placeholder(n)` for the n-th value
    /// (1-based), so that SQLite (`?`) and PostgreSQL (`$n`) share one text; values never enter the SQL.
    /// `time` turns a placeholder for microseconds since the epoch into the store's time (PostgreSQL keeps a
    /// `timestamptz`, SQLite the integer itself).
    func whereClause(
        _ placeholder: (Int) -> String, time: (String) -> String = { $0 }
    ) -> (sql: String, values: [AuditQueryValue]) {
        var conditions: [String] = []
        var values: [AuditQueryValue] = []
        func bind(_ value: AuditQueryValue) -> String {
            values.append(value)
            return placeholder(values.count)
        }
        if let source { conditions.append("source_id = \(bind(.text(source)))") }
        if let type { conditions.append("type = \(bind(.text(type)))") }
        if let subject { conditions.append("subject = \(bind(.text(subject)))") }
        if let outcome { conditions.append("outcome = \(bind(.text(outcome)))") }
        if let sinceMicroseconds { conditions.append("recorded_at >= \(time(bind(.integer(sinceMicroseconds))))") }
        if let untilMicroseconds { conditions.append("recorded_at < \(time(bind(.integer(untilMicroseconds))))") }
        if let after {
            // Spelled out rather than a row comparison, which both stores plan alike on the primary key.
            let source = bind(.text(after.source))
            let same = bind(.text(after.source))
            let sequence = bind(.integer(after.sequence))
            conditions.append("(source_id > \(source) OR (source_id = \(same) AND sequence > \(sequence)))")
        }
        let sql = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return (sql, values)
    }
}

/// A value bound into an audit query.
enum AuditQueryValue {
    case integer(Int64)
    case text(String)
}

/// A position in the stored trail: the last record of a page.
public struct AuditCursor: Sendable, Hashable {
    public var source: String
    public var sequence: Int64

    public init(source: String, sequence: Int64) {
        self.source = source
        self.sequence = sequence
    }
}

/// A stored record with the gateway it came from.
public struct SourcedAuditRecord: Sendable, Equatable {
    public var source: String
    public var record: StoredAuditRecord

    public init(source: String, record: StoredAuditRecord) {
        self.source = source
        self.record = record
    }
}

/// One page of a search: the records, and where the next page starts (nil on the last page).
public struct AuditRecordPage: Sendable, Equatable {
    public var records: [SourcedAuditRecord]
    public var next: AuditCursor?

    public init(records: [SourcedAuditRecord], next: AuditCursor?) {
        self.records = records
        self.next = next
    }

    /// The page of `limit` records from `rows`, which holds up to one more to tell whether a next page exists.
    init(rows: [SourcedAuditRecord], limit: Int) {
        let page = Array(rows.prefix(limit))
        records = page
        next = rows.count > limit ? page.last.map { AuditCursor(source: $0.source, sequence: $0.record.sequence) } : nil
    }
}
