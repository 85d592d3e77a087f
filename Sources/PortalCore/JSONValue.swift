/// A JSON value (RFC 8259) as the strict parser produced it.
///
/// Objects keep their members in document order and never hold two members of one name
/// (the parser refuses duplicates). Numbers keep their exact text; `int64` and `double`
/// read it on demand.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The string, when this is a string.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The number, when this is a number.
    public var numberValue: JSONNumber? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// The Boolean, when this is `true` or `false`.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The elements, when this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The object, when this is an object.
    public var objectValue: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// The member named `name`, when this is an object that has it.
    public subscript(name: String) -> JSONValue? {
        objectValue?[name]
    }
}

/// A JSON number, kept as the text the document spelled, which the grammar already checked.
public struct JSONNumber: Sendable, Equatable, CustomStringConvertible {
    /// The number's text exactly as written, e.g. `-12`, `1.5e3`.
    public let text: String

    /// - Precondition: `text` is a number in RFC 8259 grammar; the parser guarantees it.
    public init(text: String) { self.text = text }

    /// The value as a 64-bit integer, or `nil` when it has a fraction or exponent part or does not fit.
    public var int64: Int64? { Int64(text) }

    /// The value as a `Double` (nearest), or `nil` when it overflows to infinity.
    public var double: Double? {
        guard let value = Double(text), value.isFinite else { return nil }
        return value
    }

    public var description: String { text }
}

/// A JSON object: members in document order, names unique.
public struct JSONObject: Sendable, Equatable {
    /// One `"name": value` pair.
    public struct Member: Sendable, Equatable {
        public let name: String
        public let value: JSONValue

        public init(name: String, value: JSONValue) {
            self.name = name
            self.value = value
        }
    }

    /// The members in the order the document gave them.
    public let members: [Member]

    /// - Precondition: names in `members` are unique (checked in debug builds).
    public init(members: [Member]) {
        assert(Set(members.map(\.name)).count == members.count, "duplicate member names")
        self.members = members
    }

    /// The value of the member named `name`; a linear scan, fast for the small objects of tokens.
    public subscript(name: String) -> JSONValue? {
        for member in members where member.name == name { return member.value }
        return nil
    }

    /// The number of members.
    public var count: Int { members.count }
}

extension JSONValue {
    /// The value as compact JSON text (no whitespace), members in their stored order.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        append(to: &out)
        return out
    }

    /// Appends the value as compact JSON text to `out`.
    public func append(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let value): out.append(contentsOf: (value ? "true" : "false").utf8)
        case .number(let number): out.append(contentsOf: number.text.utf8)
        case .string(let text): JSONEscaping.appendQuoted(text, to: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                element.append(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            for (position, member) in object.members.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                JSONEscaping.appendQuoted(member.name, to: &out)
                out.append(UInt8(ascii: ":"))
                member.value.append(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }
}
