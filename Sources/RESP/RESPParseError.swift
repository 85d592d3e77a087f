/// Why bytes from a server are not RESP. After one, the parser stays failed: the connection must close,
/// because nothing later in the stream can be trusted to line up with a command.
///
/// The description names the rule and never quotes the offending bytes (they may carry keys or values).
public struct RESPParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The rule that was broken; stable, fit for a metric label via `rawValue`.
    public enum Kind: String, Sendable, Hashable {
        /// The first byte of a value is not a RESP type.
        case unknownType = "unknown_type"
        /// A line did not end in CR LF, or held a bare CR or LF.
        case badLineEnd = "bad_line_end"
        /// A header or simple line passed `maxLineBytes`.
        case lineTooLong = "line_too_long"
        /// A length or count is not a decimal number in range.
        case badLength = "bad_length"
        /// An integer, double, boolean or big number is malformed.
        case badNumber = "bad_number"
        /// A bulk string is not followed by CR LF.
        case badBulkEnd = "bad_bulk_end"
        /// A verbatim string lacks its `xxx:` format prefix.
        case badVerbatim = "bad_verbatim"
        /// A bulk string passed `maxBulkBytes`.
        case bulkTooLarge = "bulk_too_large"
        /// Aggregates nest deeper than `maxDepth`.
        case tooDeep = "too_deep"
        /// One value holds more than `maxElements` elements or `maxValueBytes` bytes.
        case valueTooLarge = "value_too_large"
    }

    public let kind: Kind

    public init(_ kind: Kind) {
        self.kind = kind
    }

    public var description: String { "RESP: \(kind.rawValue)" }
}

/// Bounds on what one server value may cost; the defaults fit a limiter and a cache, not bulk data.
public struct RESPParserLimits: Sendable, Hashable {
    /// Longest status, error or number line, in bytes; default 64 KiB.
    public var maxLineBytes: Int
    /// Largest bulk string, in bytes; default 8 MiB.
    public var maxBulkBytes: Int
    /// Deepest nesting of aggregates; default 16.
    public var maxDepth: Int
    /// Most elements, counted over every level, in one value; default 1,048,576.
    public var maxElements: Int
    /// Most bytes one value may span on the wire; default 16 MiB.
    public var maxValueBytes: Int

    /// Limits with the documented defaults, each overridable.
    public init(
        maxLineBytes: Int = 64 * 1024, maxBulkBytes: Int = 8 * 1024 * 1024, maxDepth: Int = 16,
        maxElements: Int = 1 << 20, maxValueBytes: Int = 16 * 1024 * 1024
    ) {
        self.maxLineBytes = maxLineBytes
        self.maxBulkBytes = maxBulkBytes
        self.maxDepth = maxDepth
        self.maxElements = maxElements
        self.maxValueBytes = maxValueBytes
    }
}
