import HTTPCodec
import PortalCore
import Store

/// The audit query API: `GET /api/v1/audit`, for auditors and operators, never for the gateways' shipping.
///
/// Admin only: the caller's identity must be signed by the gateway (`L01_IDENTITY_KEY`) and carry scope
/// `audit:read` or `*` in `X-Consumer-Scopes`; else 403 `E9360` (no scope) or `E9361` (no signed identity to
/// trust). Parameters, each at most once, all optional, combined with AND:
/// - `type` (`auth.failure`...), `subject`, `outcome` (`success`, `failure`, `denied`), `source` (a gateway's
///   instance id);
/// - `since` (inclusive) and `until` (exclusive): RFC 3339 UTC, `2026-12-04T16:00:00Z` or with six fraction
///   digits;
/// - `limit` (1 to the page maximum, default the page default), `after` (the `next_after` of the page before);
/// - `format`: `json` (default) or `jsonl`; `Accept: application/x-ndjson` also asks for JSON lines.
///
/// JSON: `{"records":[{"source":"…","record":{…sealed line…}}],"next_after":"…"|null}`. JSON lines: one
/// `{"source":"…","record":{…}}` per line, and `X-Next-After` while more pages follow. Each `record` is the
/// sealed line byte for byte, so an export verifies with the chain key. A bad parameter is 400 `E9308` naming it.
extension DataLayerRouter {
    static let auditQueryPath = "/api/v1/audit"
    /// The scope that lets a consumer read the audit trail.
    static let auditReadScope = "audit:read"

    func queryAudit(_ request: HTTPRequest, identityChecked: Bool) throws -> HTTPResponse {
        guard let auditRecords else { throw DataLayerError.notFound }
        guard request.method == "GET" else { throw DataLayerError.methodNotAllowed("GET") }
        // Scopes are only the gateway's word when they are signed: without the identity key nobody is admin.
        guard identityChecked else { throw DataLayerError.auditIdentityRequired }
        let scopes = request.headers.all("X-Consumer-Scopes").first ?? ""
        let held = scopes.split(separator: " ")
        guard held.contains(where: { $0 == "*" || $0 == Self.auditReadScope }) else {
            throw DataLayerError.auditScopeRequired
        }
        var (query, lines) = try auditQuery(QueryParameters(request.query))
        if !lines {
            lines = request.headers.all("Accept").contains { $0.lowercased().contains("application/x-ndjson") }
        }
        let page = try auditRecords.searchAuditRecords(query)
        return lines ? Self.jsonLines(page) : .json(status: 200, body: Self.json(page))
    }

    /// The query and whether JSON lines were asked for, from strictly checked parameters.
    private func auditQuery(_ parameters: QueryParameters) throws(DataLayerError) -> (AuditQuery, Bool) {
        var query = AuditQuery(limit: configuration.defaultPageSize)
        var lines = false
        for (name, value) in parameters.pairs {
            switch name {
            case "type":
                guard EventInputValidator.isValidName(value, maxLength: 64) else {
                    throw .invalidParameter(name, "must match ^[a-z][a-z0-9_.:-]{0,63}$")
                }
                query.type = value
            case "subject":
                guard (1...256).contains(value.utf8.count), value.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) else {
                    throw .invalidParameter(name, "must be 1-256 bytes without control characters")
                }
                query.subject = value
            case "outcome":
                guard ["success", "failure", "denied"].contains(value) else {
                    throw .invalidParameter(name, "must be success, failure or denied")
                }
                query.outcome = value
            case "source":
                guard AuditBatchValidator.isValidSource(value) else {
                    throw .invalidParameter(name, "must be 1-64 of [A-Za-z0-9._:-]")
                }
                query.source = value
            case "since", "until":
                guard let micros = AuditQuery.parseTime(value) else {
                    throw .invalidParameter(name, "must be RFC 3339 UTC, e.g. 2026-12-04T16:00:00Z")
                }
                if name == "since" { query.sinceMicroseconds = micros } else { query.untilMicroseconds = micros }
            case "limit":
                guard value.utf8.count <= 7, value.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
                    let limit = Int(value), (1...configuration.maxPageSize).contains(limit)
                else { throw .invalidParameter(name, "must be 1 to \(configuration.maxPageSize)") }
                query.limit = limit
            case "after":
                guard let cursor = Self.decodeCursor(value) else {
                    throw .invalidParameter(name, "must be a next_after cursor from an earlier page")
                }
                query.after = cursor
            case "format":
                guard value == "json" || value == "jsonl" else {
                    throw .invalidParameter(name, "must be json or jsonl")
                }
                lines = value == "jsonl"
            default:
                throw .unknownParameter(name)
            }
        }
        if let since = query.sinceMicroseconds, let until = query.untilMicroseconds, since >= until {
            throw .invalidParameter("until", "must be later than since")
        }
        return (query, lines)
    }

    /// The cursor as `source@sequence`; `@` is never part of a source.
    static func encodeCursor(_ cursor: AuditCursor) -> String { cursor.source + "@" + String(cursor.sequence) }

    static func decodeCursor(_ text: String) -> AuditCursor? {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, AuditBatchValidator.isValidSource(parts[0]),
            let sequence = PageCursor.decode(String(parts[1]))
        else { return nil }
        return AuditCursor(source: String(parts[0]), sequence: sequence)
    }

    private static func appendRecord(_ record: SourcedAuditRecord, to out: inout [UInt8]) {
        out += Array("{\"source\":".utf8)
        JSONEscaping.appendQuoted(record.source, to: &out)
        out += Array(",\"record\":".utf8)
        out += Array(record.record.line.utf8)
        out.append(UInt8(ascii: "}"))
    }

    static func json(_ page: AuditRecordPage) -> [UInt8] {
        var out: [UInt8] = Array("{\"records\":[".utf8)
        for (index, record) in page.records.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            appendRecord(record, to: &out)
        }
        out += Array("],\"next_after\":".utf8)
        if let next = page.next {
            JSONEscaping.appendQuoted(encodeCursor(next), to: &out)
        } else {
            out += Array("null".utf8)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    static func jsonLines(_ page: AuditRecordPage) -> HTTPResponse {
        var out: [UInt8] = []
        for record in page.records {
            appendRecord(record, to: &out)
            out.append(UInt8(ascii: "\n"))
        }
        var headers = HTTPHeaders()
        headers.add("Content-Type", "application/x-ndjson")
        if let next = page.next { headers.add("X-Next-After", encodeCursor(next)) }
        return HTTPResponse(status: 200, headers: headers, body: out)
    }
}
