import PortalCore
import Store

/// Limits on what `POST /api/v1/events` accepts.
public struct EventInputLimits: Sendable {
    /// The longest `payload` accepted, serialised compactly, in bytes. Default 256 KiB.
    public var maxPayloadBytes: Int
    /// The longest `metadata` accepted, serialised compactly, in bytes. Default 64 KiB.
    public var maxMetadataBytes: Int
    /// The deepest nesting of the whole body; the body object itself is level 1. Default 32.
    public var maxDepth: Int

    /// Limits with the defaults stated on each property.
    public init(maxPayloadBytes: Int = 256 * 1024, maxMetadataBytes: Int = 64 * 1024, maxDepth: Int = 32) {
        self.maxPayloadBytes = maxPayloadBytes
        self.maxMetadataBytes = maxMetadataBytes
        self.maxDepth = maxDepth
    }
}

/// Turns a request body into a `NewEvent`, or the first rule it breaks.
enum EventInputValidator {
    private static let knownFields: Set<String> = [
        "event_type", "aggregate_type", "aggregate_id", "payload", "metadata",
    ]

    /// Checks the body of an event append.
    /// - Throws: `DataLayerError` naming the field at fault.
    static func validate(_ body: [UInt8], limits: EventInputLimits) throws(DataLayerError) -> NewEvent {
        let document: JSONValue
        do {
            document = try JSONParser(maximumDepth: max(1, limits.maxDepth)).parse(body)
        } catch {
            switch error.reason {
            case "too_deep": throw .tooDeep(limit: limits.maxDepth)
            case "invalid_utf8", "lone_surrogate": throw .invalidBody("the body is not valid UTF-8 JSON")
            case "duplicate_member": throw .invalidBody("the body repeats a member name")
            default: throw .invalidBody("the body is not valid JSON")
            }
        }
        guard case .object(let root) = document else { throw .invalidBody("the body must be a JSON object") }
        var fields: [String: JSONValue] = [:]
        for member in root.members {
            guard knownFields.contains(member.name) else { throw .unknownField(member.name) }
            fields[member.name] = member.value
        }
        let eventType = try name(fields["event_type"], field: "event_type", maxLength: 128)
        let aggregateType = try name(fields["aggregate_type"], field: "aggregate_type", maxLength: 128)
        let aggregateID = try identifier(fields["aggregate_id"], field: "aggregate_id")
        if SubjectErasure.isReserved(aggregateID: aggregateID) {
            throw .invalidValue("aggregate_id", "must not start with erased: or subject: (written by erasure only)")
        }
        if eventType == SubjectErasure.recordType || aggregateType == SubjectErasure.recordAggregateType {
            throw .invalidValue(
                eventType == SubjectErasure.recordType ? "event_type" : "aggregate_type",
                "subject.erased events of aggregate type subject are written by erasure only")
        }
        guard let payload = fields["payload"] else { throw .missing("payload") }
        let payloadJSON = try object(payload, field: "payload", maxBytes: limits.maxPayloadBytes)
        let metadataJSON = try object(
            fields["metadata"] ?? .object(JSONObject(members: [])), field: "metadata",
            maxBytes: limits.maxMetadataBytes)
        return NewEvent(
            eventType: eventType, aggregateType: aggregateType, aggregateID: aggregateID,
            payloadJSON: payloadJSON, metadataJSON: metadataJSON)
    }

    /// A dotted lower-case name: `^[a-z][a-z0-9_.:-]*$`, at most `maxLength` bytes.
    static func isValidName(_ text: some StringProtocol, maxLength: Int = 128) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, bytes.count <= maxLength, (0x61...0x7A).contains(first) else { return false }
        return bytes.allSatisfy { byte in
            (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
                || byte == UInt8(ascii: "-")
        }
    }

    /// An aggregate id: 1 to 128 bytes of `[A-Za-z0-9._:-]`.
    static func isValidIdentifier(_ text: some StringProtocol) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...128).contains(bytes.count) else { return false }
        return bytes.allSatisfy { byte in
            (0x61...0x7A).contains(byte) || (0x41...0x5A).contains(byte) || (0x30...0x39).contains(byte)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
                || byte == UInt8(ascii: "-")
        }
    }

    private static func name(_ value: JSONValue?, field: String, maxLength: Int) throws(DataLayerError) -> String {
        guard let value else { throw .missing(field) }
        guard case .string(let text) = value else { throw .wrongType(field, expected: "a string") }
        guard isValidName(text, maxLength: maxLength) else {
            throw .invalidValue(field, "must match ^[a-z][a-z0-9_.:-]{0,\(maxLength - 1)}$")
        }
        return text
    }

    private static func identifier(_ value: JSONValue?, field: String) throws(DataLayerError) -> String {
        guard let value else { throw .missing(field) }
        guard case .string(let text) = value else { throw .wrongType(field, expected: "a string") }
        guard isValidIdentifier(text) else { throw .invalidValue(field, "must be 1-128 of [A-Za-z0-9._:-]") }
        return text
    }

    private static func object(_ value: JSONValue, field: String, maxBytes: Int) throws(DataLayerError) -> String {
        guard case .object = value else { throw .wrongType(field, expected: "an object") }
        let text = String(decoding: value.serialized(), as: UTF8.self)
        guard text.utf8.count <= maxBytes else { throw .tooLarge(field, limit: maxBytes) }
        return text
    }
}
