import PortalCore
import Store

/// Turns the body of `POST /api/v1/audit-records` into an `AuditBatch`, or names the first thing wrong.
///
/// The body is `{"source":"<instance id>","records":["<sealed line>", ...]}`: each record is the JSON line the
/// gateway wrote to its audit file, sent as a string so that its exact bytes (which the chain hash covers) are
/// stored. Each line must be a sealed record: a JSON object with `time` (as the gateway writes it), `sequence`,
/// `type`, `outcome`, the optional text fields, `prev_hash`, and `hash` as its last member. Members this
/// version does not know are kept in the line, so that newer gateways can ship to an older data layer.
enum AuditBatchValidator {
    /// The most records one batch may hold.
    static let maxRecords = 1000
    /// The longest line accepted, in bytes (every field of a record is cut to 1 KiB by the gateway).
    static let maxLineBytes = 16 * 1024

    private static let optionalFields = [
        "request_id", "client_address", "subject", "route", "reason",
        "token_fingerprint",
    ]

    /// Checks the body of an audit batch.
    /// - Throws: `DataLayerError` naming the field at fault (for a record: `records[i].<member>`).
    static func validate(_ body: [UInt8]) throws(DataLayerError) -> AuditBatch {
        guard let document = try? JSONParser(maximumDepth: 3).parse(body) else {
            throw .invalidBody("the body is not valid JSON")
        }
        guard case .object(let root) = document else { throw .invalidBody("the body must be a JSON object") }
        for member in root.members where member.name != "source" && member.name != "records" {
            throw .unknownField(member.name)
        }
        guard let sourceValue = root["source"] else { throw .missing("source") }
        guard case .string(let source) = sourceValue else { throw .wrongType("source", expected: "a string") }
        guard isValidSource(source) else { throw .invalidValue("source", "must be 1-64 of [A-Za-z0-9._:-]") }
        guard let recordsValue = root["records"] else { throw .missing("records") }
        guard case .array(let lines) = recordsValue else { throw .wrongType("records", expected: "an array") }
        guard (1...maxRecords).contains(lines.count) else {
            throw .invalidValue("records", "must hold 1 to \(maxRecords) records")
        }
        var records: [StoredAuditRecord] = []
        records.reserveCapacity(lines.count)
        for (index, value) in lines.enumerated() {
            guard case .string(let line) = value else { throw .wrongType("records[\(index)]", expected: "a string") }
            records.append(try record(line, index: index))
        }
        return AuditBatch(source: source, records: records)
    }

    /// A gateway's instance id: 1 to 64 bytes of `[A-Za-z0-9._:-]`.
    static func isValidSource(_ text: some StringProtocol) -> Bool {
        let bytes = Array(text.utf8)
        return (1...64).contains(bytes.count) && EventInputValidator.isValidIdentifier(text)
    }

    private static func record(_ line: String, index: Int) throws(DataLayerError) -> StoredAuditRecord {
        let field = { (name: String) in "records[\(index)].\(name)" }
        let bytes = Array(line.utf8)
        guard bytes.count <= maxLineBytes else { throw .tooLarge("records[\(index)]", limit: maxLineBytes) }
        guard let parsed = try? JSONParser(maximumDepth: 2).parse(bytes), case .object(let object) = parsed else {
            throw .invalidValue("records[\(index)]", "must be a sealed audit record (a JSON object)")
        }
        func text(_ name: String) throws(DataLayerError) -> String {
            guard let value = object[name] else { throw .missing(field(name)) }
            guard case .string(let text) = value else { throw .wrongType(field(name), expected: "a string") }
            return text
        }
        func optionalText(_ name: String) throws(DataLayerError) -> String? {
            switch object[name] {
            case nil, .null?: return nil
            case .string(let text)?: return text
            default: throw .wrongType(field(name), expected: "a string or null")
            }
        }
        guard let time = RFC3339.parse(try text("time")) else {
            throw .invalidValue(field("time"), "must be YYYY-MM-DDTHH:MM:SS.ffffffZ")
        }
        guard let sequenceValue = object["sequence"] else { throw .missing(field("sequence")) }
        guard let sequence = sequenceValue.numberValue?.int64, sequence >= 1 else {
            throw .invalidValue(field("sequence"), "must be an integer from 1")
        }
        let prevHash = try text("prev_hash")
        let hash = try text("hash")
        for (name, value) in [("prev_hash", prevHash), ("hash", hash)] where !isHash(value) {
            throw .invalidValue(field(name), "must be 64 lower-case hexadecimal digits")
        }
        // The hash member comes last, so the bytes before it are what the chain key authenticated.
        guard line.hasSuffix(",\"hash\":\"\(hash)\"}"), object.members.last?.name == "hash" else {
            throw .invalidValue(field("hash"), "must be the record's last member")
        }
        var optional: [String: String] = [:]
        for name in optionalFields { optional[name] = try optionalText(name) }
        return StoredAuditRecord(
            sequence: sequence, timeMicroseconds: time, type: try text("type"), outcome: try text("outcome"),
            requestID: optional["request_id"], clientAddress: optional["client_address"],
            subject: optional["subject"], route: optional["route"], reason: optional["reason"],
            tokenFingerprint: optional["token_fingerprint"], prevHash: prevHash, hash: hash, line: line)
    }

    private static func isHash(_ text: String) -> Bool {
        text.utf8.count == 64
            && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
