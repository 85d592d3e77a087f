/// One command as a RESP array of bulk strings, written straight into bytes as arguments are added.
///
/// The argument count is fixed up front (`*N` is written first), so no intermediate array of arguments is
/// built: `RESPCommand(count: 3).adding("GET")...` costs one buffer. The bytes may hold secrets (an `AUTH`
/// password): the type prints as its count only.
public struct RESPCommand: Sendable, CustomStringConvertible {
    /// The wire bytes so far.
    public private(set) var bytes: [UInt8]
    /// Arguments declared in the header.
    public let argumentCount: Int
    /// Arguments written so far.
    public private(set) var written = 0

    /// Starts a command of `argumentCount` arguments (the command name counts as one).
    /// - Precondition: `argumentCount >= 1`.
    public init(argumentCount: Int) {
        precondition(argumentCount >= 1, "a RESP command has at least its name")
        self.argumentCount = argumentCount
        bytes = []
        bytes.reserveCapacity(16 + argumentCount * 16)
        bytes.append(UInt8(ascii: "*"))
        Self.appendDecimal(argumentCount, to: &bytes)
        bytes.append(contentsOf: [13, 10])
    }

    /// A whole command from text arguments.
    public init(_ arguments: [String]) {
        self.init(argumentCount: arguments.count)
        for argument in arguments { append(argument) }
    }

    /// Whether every declared argument has been written.
    public var isComplete: Bool { written == argumentCount }

    /// Appends one argument as a bulk string.
    /// - Precondition: fewer than `argumentCount` arguments written so far.
    public mutating func append(_ argument: UnsafeRawBufferPointer) {
        precondition(written < argumentCount, "more arguments than declared")
        written += 1
        bytes.append(UInt8(ascii: "$"))
        Self.appendDecimal(argument.count, to: &bytes)
        bytes.append(contentsOf: [13, 10])
        bytes.append(contentsOf: argument)
        bytes.append(contentsOf: [13, 10])
    }

    /// Appends a byte-string argument.
    public mutating func append(_ argument: [UInt8]) {
        argument.withUnsafeBytes { append($0) }
    }

    /// Appends a text argument as its UTF-8 bytes.
    public mutating func append(_ argument: String) {
        var argument = argument
        argument.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// Appends an integer argument in decimal, the way Redis reads numbers.
    public mutating func append(_ argument: Int64) {
        precondition(written < argumentCount, "more arguments than declared")
        var digits: [UInt8] = []
        Self.appendDecimal(argument, to: &digits)
        append(digits)
    }

    /// This command with one more argument; for building in one expression.
    public func adding(_ argument: String) -> RESPCommand {
        var copy = self
        copy.append(argument)
        return copy
    }

    /// Shows the argument count only: arguments may be secrets.
    public var description: String { "RESPCommand(\(argumentCount) arguments)" }

    /// Writes `value` in decimal without building a String.
    static func appendDecimal<T: BinaryInteger>(_ value: T, to out: inout [UInt8]) {
        if value == 0 {
            out.append(UInt8(ascii: "0"))
            return
        }
        var magnitude = value.magnitude
        if value < 0 { out.append(UInt8(ascii: "-")) }
        let start = out.count
        while magnitude > 0 {
            out.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        }
        out[start...].reverse()
    }
}
