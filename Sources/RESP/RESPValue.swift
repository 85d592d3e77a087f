/// One value of the Redis serialisation protocol, as a server sends it.
///
/// The client speaks RESP2, but tolerates the RESP3 types a server may still send (a proxy, a module, a
/// future default): RESP3 sets arrive as `.array`, verbatim strings as `.bulkString` without their format
/// prefix, blob errors as `.error`, and attributes are read and dropped. Push messages are kept apart
/// (`.push`) so that they are never taken for the reply to a command.
public indirect enum RESPValue: Sendable, Hashable {
    /// `+OK`: a short status line.
    case simpleString(String)
    /// `-ERR ...` or a RESP3 blob error: the server refused the command. The text may echo arguments.
    case error(String)
    /// `:42`.
    case integer(Int64)
    /// `$5\r\nhello`: binary-safe bytes (also RESP3 verbatim strings, without the `txt:` prefix).
    case bulkString([UInt8])
    /// RESP2 null bulk string or null array, RESP3 `_`.
    case null
    /// `*2 ...`, also RESP3 sets (`~`).
    case array([RESPValue])
    /// RESP3 `%`: keys and values alternating, `[k0, v0, k1, v1, ...]`.
    case map([RESPValue])
    /// RESP3 `,`: a double, including `inf`, `-inf` and `nan`.
    case double(Double)
    /// RESP3 `#t` / `#f`.
    case boolean(Bool)
    /// RESP3 `(`: an integer too large for 64 bits, as its decimal text.
    case bigNumber(String)
    /// RESP3 `>`: an out-of-band message; never the reply to a command.
    case push([RESPValue])

    /// The integer of an `.integer`, or nil.
    public var integerValue: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The text of a `.simpleString` or `.bulkString` (UTF-8, repaired), or nil.
    public var stringValue: String? {
        switch self {
        case .simpleString(let text): text
        case .bulkString(let bytes): String(decoding: bytes, as: UTF8.self)
        default: nil
        }
    }

    /// The elements of an `.array`, or nil.
    public var arrayValue: [RESPValue]? {
        if case .array(let items) = self { return items }
        return nil
    }
}
