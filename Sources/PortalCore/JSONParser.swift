/// A strict RFC 8259 JSON parser over bytes, for input from the network.
///
/// Refuses, rather than repairs: invalid UTF-8, a byte-order mark, lone or reversed UTF-16
/// surrogate escapes, raw control characters in strings, duplicate member names in one object,
/// nesting deeper than `maximumDepth`, leading zeros, and anything after the top-level value
/// except whitespace. Any JSON value may stand at the top level.
public struct JSONParser {
    /// Arrays and objects may nest this deep (default 64); one level deeper is refused.
    public let maximumDepth: Int

    /// - Parameter maximumDepth: how deep arrays and objects may nest; 64 by default.
    public init(maximumDepth: Int = 64) {
        precondition(maximumDepth > 0, "maximumDepth must be positive")
        self.maximumDepth = maximumDepth
    }

    /// Parses `bytes` as one JSON text.
    /// - Throws: `JSONParseError` naming the first fault and its byte offset.
    public func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError> = bytes.withUnsafeBytes { buffer in
            Result { () throws(JSONParseError) in try parse(buffer) }
        }
        return try result.get()
    }

    /// Parses the UTF-8 of `text` as one JSON text.
    /// - Throws: `JSONParseError` naming the first fault and its byte offset.
    public func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    /// Parses `buffer` as one JSON text; the buffer is only read during the call.
    /// - Throws: `JSONParseError` naming the first fault and its byte offset.
    public func parse(_ buffer: UnsafeRawBufferPointer) throws(JSONParseError) -> JSONValue {
        var cursor = JSONCursor(bytes: buffer, maximumDepth: maximumDepth)
        cursor.skipWhitespace()
        let value = try cursor.parseValue(depth: 0)
        cursor.skipWhitespace()
        guard cursor.index == buffer.count else { throw JSONParseError(.trailingContent, at: cursor.index) }
        return value
    }
}

/// Why a JSON text was refused, and where.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    enum Code: String, Sendable {
        case unexpectedEnd = "unexpected_end"
        case unexpectedByte = "unexpected_byte"
        case invalidNumber = "invalid_number"
        case invalidEscape = "invalid_escape"
        case loneSurrogate = "lone_surrogate"
        case controlCharacter = "control_character"
        case invalidUTF8 = "invalid_utf8"
        case duplicateMember = "duplicate_member"
        case tooDeep = "too_deep"
        case trailingContent = "trailing_content"
    }

    let code: Code
    /// The byte offset at which the fault was found.
    public let offset: Int

    init(_ code: Code, at offset: Int) {
        self.code = code
        self.offset = offset
    }

    /// A short fixed token for metrics, e.g. `duplicate_member`; never contains input.
    public var reason: String { code.rawValue }

    public var description: String { "JSON refused: \(code.rawValue) at byte \(offset)" }
}

/// The parser's moving state over one buffer.
private struct JSONCursor {
    let bytes: UnsafeRawBufferPointer
    let maximumDepth: Int
    var index = 0

    init(bytes: UnsafeRawBufferPointer, maximumDepth: Int) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    func peek() throws(JSONParseError) -> UInt8 {
        guard index < bytes.count else { throw JSONParseError(.unexpectedEnd, at: index) }
        return bytes[index]
    }

    mutating func expect(_ literal: StaticString, value: JSONValue) throws(JSONParseError) -> JSONValue {
        let count = literal.utf8CodeUnitCount
        guard bytes.count - index >= count else { throw JSONParseError(.unexpectedEnd, at: bytes.count) }
        for offset in 0..<count where bytes[index + offset] != literal.utf8Start[offset] {
            throw JSONParseError(.unexpectedByte, at: index + offset)
        }
        index += count
        return value
    }

    mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        switch try peek() {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try expect("true", value: .bool(true))
        case UInt8(ascii: "f"): return try expect("false", value: .bool(false))
        case UInt8(ascii: "n"): return try expect("null", value: .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw JSONParseError(.unexpectedByte, at: index)
        }
    }

    mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= maximumDepth else { throw JSONParseError(.tooDeep, at: index) }
        index += 1
        var members: [JSONObject.Member] = []
        // Small objects are checked for duplicates by scanning; large ones by a set, to stay linear.
        var seen: Set<String>? = nil
        skipWhitespace()
        if try peek() == UInt8(ascii: "}") {
            index += 1
            return .object(JSONObject(members: members))
        }
        while true {
            skipWhitespace()
            let nameOffset = index
            guard try peek() == UInt8(ascii: "\"") else { throw JSONParseError(.unexpectedByte, at: index) }
            let name = try parseString()
            if var names = seen {
                guard names.insert(name).inserted else { throw JSONParseError(.duplicateMember, at: nameOffset) }
                seen = names
            } else {
                for member in members where member.name == name {
                    throw JSONParseError(.duplicateMember, at: nameOffset)
                }
                if members.count >= 16 { seen = Set(members.map(\.name) + [name]) }
            }
            skipWhitespace()
            guard try peek() == UInt8(ascii: ":") else { throw JSONParseError(.unexpectedByte, at: index) }
            index += 1
            skipWhitespace()
            members.append(JSONObject.Member(name: name, value: try parseValue(depth: depth)))
            skipWhitespace()
            switch try peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                return .object(JSONObject(members: members))
            default: throw JSONParseError(.unexpectedByte, at: index)
            }
        }
    }

    mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= maximumDepth else { throw JSONParseError(.tooDeep, at: index) }
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if try peek() == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            switch try peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                return .array(elements)
            default: throw JSONParseError(.unexpectedByte, at: index)
            }
        }
    }

    mutating func parseNumber() throws(JSONParseError) -> JSONNumber {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        // Integer part: one zero, or a non-zero digit and more digits.
        guard index < bytes.count, isDigit(bytes[index]) else { throw JSONParseError(.invalidNumber, at: index) }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, isDigit(bytes[index]) { throw JSONParseError(.invalidNumber, at: index) }
        } else {
            skipDigits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            try requireDigits()
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            try requireDigits()
        }
        let text = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
        return JSONNumber(text: String(decoding: text, as: UTF8.self))
    }

    func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    mutating func skipDigits() {
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }

    mutating func requireDigits() throws(JSONParseError) {
        guard index < bytes.count, isDigit(bytes[index]) else { throw JSONParseError(.invalidNumber, at: index) }
        skipDigits()
    }
}

extension JSONCursor {
    /// Reads a string starting at its opening quote; the common case (no escapes) copies once.
    mutating func parseString() throws(JSONParseError) -> String {
        index += 1
        let start = index
        var asciiOnly = true
        // Fast scan: stop at the closing quote or the first escape.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
                index += 1
                return try makeString(raw, asciiOnly: asciiOnly, at: start)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw JSONParseError(.controlCharacter, at: index) }
            if byte >= 0x80 { asciiOnly = false }
            index += 1
        }
        var buffer = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
        while true {
            guard index < bytes.count else { throw JSONParseError(.unexpectedEnd, at: index) }
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                guard let text = String(validating: buffer, as: UTF8.self) else {
                    throw JSONParseError(.invalidUTF8, at: start)
                }
                return text
            case UInt8(ascii: "\\"):
                try parseEscape(into: &buffer)
            case 0..<0x20:
                throw JSONParseError(.controlCharacter, at: index)
            default:
                buffer.append(byte)
                index += 1
            }
        }
    }

    private func makeString(
        _ raw: UnsafeRawBufferPointer, asciiOnly: Bool, at offset: Int
    ) throws(JSONParseError) -> String {
        if asciiOnly { return String(decoding: raw, as: UTF8.self) }
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw JSONParseError(.invalidUTF8, at: offset)
        }
        return text
    }

    /// Decodes one escape at `index` (the backslash) and appends its UTF-8 to `buffer`.
    private mutating func parseEscape(into buffer: inout [UInt8]) throws(JSONParseError) {
        let escapeOffset = index
        guard index + 1 < bytes.count else { throw JSONParseError(.unexpectedEnd, at: bytes.count) }
        let kind = bytes[index + 1]
        index += 2
        switch kind {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): buffer.append(kind)
        case UInt8(ascii: "b"): buffer.append(0x08)
        case UInt8(ascii: "f"): buffer.append(0x0C)
        case UInt8(ascii: "n"): buffer.append(0x0A)
        case UInt8(ascii: "r"): buffer.append(0x0D)
        case UInt8(ascii: "t"): buffer.append(0x09)
        case UInt8(ascii: "u"):
            let first = try readHex4()
            var scalarValue = UInt32(first)
            if (0xDC00...0xDFFF).contains(first) { throw JSONParseError(.loneSurrogate, at: escapeOffset) }
            if (0xD800...0xDBFF).contains(first) {
                // A high surrogate must be followed at once by an escaped low surrogate.
                let pairFollows =
                    index + 1 < bytes.count
                    && bytes[index] == UInt8(ascii: "\\") && bytes[index + 1] == UInt8(ascii: "u")
                guard pairFollows else { throw JSONParseError(.loneSurrogate, at: escapeOffset) }
                index += 2
                let second = try readHex4()
                guard (0xDC00...0xDFFF).contains(second) else {
                    throw JSONParseError(.loneSurrogate, at: escapeOffset)
                }
                scalarValue = 0x10000 + (UInt32(first - 0xD800) << 10) + UInt32(second - 0xDC00)
            }
            guard let scalar = Unicode.Scalar(scalarValue) else {
                throw JSONParseError(.invalidEscape, at: escapeOffset)
            }
            buffer.append(contentsOf: String(Character(scalar)).utf8)
        default:
            throw JSONParseError(.invalidEscape, at: escapeOffset)
        }
    }

    private mutating func readHex4() throws(JSONParseError) -> UInt16 {
        guard bytes.count - index >= 4 else { throw JSONParseError(.unexpectedEnd, at: bytes.count) }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw JSONParseError(.invalidEscape, at: index)
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }
}
