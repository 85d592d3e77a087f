/// One header field as received or to be sent.
///
/// Equality compares name and value bytes only, never how the field was made.
public struct HTTPField: Sendable, Equatable {
    /// The field name. Setting it drops the parser's validation mark.
    public var name: String {
        didSet { isValidated = false }
    }
    /// The value as text; bytes that are not UTF-8 (obs-text) read as ISO-8859-1. Setting it clears `rawValue`
    /// and the parser's validation mark.
    public var value: String {
        didSet {
            rawValue = nil
            isValidated = false
        }
    }
    /// The value's bytes exactly as received, kept only when they are not valid UTF-8 (obs-text such as
    /// Latin-1), so that serializers forward them unchanged; nil for UTF-8 values and fields built in code.
    public private(set) var rawValue: [UInt8]?
    /// True only for a field the strict parser built and nobody changed since: its name is a token and its
    /// value holds no CTL, so serializers write it without checking every byte again.
    public private(set) var isValidated = false

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// A field the strict parser checked; `rawValue` when the value bytes are not valid UTF-8, `value` being
    /// their ISO-8859-1 reading.
    init(validatedName name: String, value: String, rawValue: [UInt8]?) {
        self.name = name
        self.value = value
        self.rawValue = rawValue
        self.isValidated = true
    }

    /// Appends the value's wire bytes: `rawValue` when kept, else the UTF-8 of `value`.
    func appendValue(to out: inout [UInt8]) {
        if let rawValue { out.append(contentsOf: rawValue) } else { out.append(contentsOf: value.utf8) }
    }

    public static func == (lhs: HTTPField, rhs: HTTPField) -> Bool {
        lhs.name == rhs.name && lhs.value == rhs.value && lhs.rawValue == rhs.rawValue
    }
}

/// An ordered list of header fields; names compare ASCII case-insensitively.
///
/// Order and duplicates are kept as received, because forwarding must not reorder them.
public struct HTTPHeaders: Sendable, Equatable, Sequence {
    public private(set) var fields: [HTTPField]

    public init() { fields = [] }

    public init(_ pairs: [(String, String)]) {
        fields = pairs.map { HTTPField(name: $0.0, value: $0.1) }
    }

    public var count: Int { fields.count }

    public func makeIterator() -> IndexingIterator<[HTTPField]> { fields.makeIterator() }

    /// Appends a field, keeping any that share its name.
    public mutating func add(_ name: String, _ value: String) {
        fields.append(HTTPField(name: name, value: value))
    }

    /// Appends a field as built, keeping its raw bytes if it has them.
    mutating func add(_ field: HTTPField) {
        fields.append(field)
    }

    /// Removes every field called `name`, then appends one.
    public mutating func replaceOrAdd(_ name: String, _ value: String) {
        remove(name)
        add(name, value)
    }

    /// Removes every field called `name`.
    public mutating func remove(_ name: String) {
        fields.removeAll { HTTPHeaders.namesEqual($0.name, name) }
    }

    /// Removes every field for which `shouldRemove` is true.
    public mutating func removeAll(where shouldRemove: (HTTPField) throws -> Bool) rethrows {
        try fields.removeAll(where: shouldRemove)
    }

    /// The first value of the field called `name`, if any.
    public func first(_ name: String) -> String? {
        for field in fields where HTTPHeaders.namesEqual(field.name, name) { return field.value }
        return nil
    }

    /// Every value of the fields called `name`, in order.
    public func all(_ name: String) -> [String] {
        fields.compactMap { HTTPHeaders.namesEqual($0.name, name) ? $0.value : nil }
    }

    public func contains(_ name: String) -> Bool { first(name) != nil }

    /// ASCII case-insensitive comparison of two field names, without allocating.
    @inlinable
    public static func namesEqual(_ a: String, _ b: String) -> Bool {
        var a = a
        var b = b
        return a.withUTF8 { ua in
            b.withUTF8 { ub in
                guard ua.count == ub.count else { return false }
                for i in 0..<ua.count {
                    let x = ua[i]
                    let y = ub[i]
                    if x == y { continue }
                    let lx = (x >= 0x41 && x <= 0x5A) ? x | 0x20 : x
                    let ly = (y >= 0x41 && y <= 0x5A) ? y | 0x20 : y
                    if lx != ly { return false }
                }
                return true
            }
        }
    }
}
