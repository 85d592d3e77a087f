/// A request's query string, split and percent-decoded strictly.
struct QueryParameters {
    /// Name and value pairs in order; names are unique.
    private(set) var pairs: [(name: String, value: String)] = []

    /// Parses `query`; `+` means a space, as in HTML forms.
    /// - Throws: `DataLayerError` for a malformed escape, invalid UTF-8, an empty name or a repeated name.
    init(_ query: Substring?) throws(DataLayerError) {
        guard let query, !query.isEmpty else { return }
        for part in query.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let equals = part.firstIndex(of: UInt8(ascii: "="))
            let rawName = equals.map { part[part.startIndex..<$0] } ?? part[...]
            let rawValue = equals.map { part[part.index(after: $0)...] } ?? part[part.endIndex...]
            guard let name = Self.decode(rawName), !name.isEmpty else {
                throw .invalidParameter("query", "malformed query string")
            }
            guard let value = Self.decode(rawValue) else { throw .invalidParameter(name, "malformed escape") }
            guard !pairs.contains(where: { $0.name == name }) else {
                throw .invalidParameter(name, "the parameter is repeated")
            }
            pairs.append((name, value))
        }
    }

    /// The value of `name`, if present.
    func value(_ name: String) -> String? { pairs.first { $0.name == name }?.value }

    /// Percent-decodes `bytes`, or nil when an escape is malformed or the result is not UTF-8.
    static func decode(_ bytes: Substring.UTF8View.SubSequence) -> String? {
        var out: [UInt8] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                let high = bytes.index(after: index)
                guard high < bytes.endIndex, bytes.index(after: high) < bytes.endIndex,
                    let h = hexValue(bytes[high]), let l = hexValue(bytes[bytes.index(after: high)])
                else { return nil }
                out.append(h << 4 | l)
                index = bytes.index(index, offsetBy: 3)
                continue
            }
            out.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            index = bytes.index(after: index)
        }
        return String(validating: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
