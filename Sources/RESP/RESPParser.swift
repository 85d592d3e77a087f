/// An incremental RESP parser: bytes go in as they arrive, whole values come out in order.
///
/// Resumable without re-reading: an aggregate under construction lives on an explicit stack, so a reply
/// that trickles in a byte at a time costs time linear in its size, and a hostile stream meets a bound
/// (`RESPParserLimits`) before it meets memory. Nothing is preallocated from a declared count. After the
/// first error the parser stays failed. Not thread-safe: one connection owns it.
public struct RESPParser {
    private enum Kind {
        case array, map, push, attribute
    }

    private struct Frame {
        var kind: Kind
        var remaining: Int
        var items: [RESPValue]
    }

    /// What reading one element did.
    private enum Step {
        case value(RESPValue)
        case opened
    }

    /// The bounds this parser enforces.
    public let limits: RESPParserLimits
    private var buffer: [UInt8] = []
    private var index = 0
    private var stack: [Frame] = []
    /// Where the top-level value being read began, and how many elements it holds so far.
    private var valueStart = 0
    private var elements = 0
    /// How far the line starting at `scanStart` has been searched for its CR, so a trickled line is not rescanned.
    private var scanStart = -1
    private var scanPosition = 0
    private var failure: RESPParseError?

    /// A parser enforcing `limits` (defaults: see `RESPParserLimits`).
    public init(limits: RESPParserLimits = RESPParserLimits()) {
        self.limits = limits
    }

    /// Bytes received and not yet part of a returned value.
    public var bufferedByteCount: Int { buffer.count - index }

    /// Appends bytes read from the connection.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Appends bytes read from the connection.
    public mutating func feed(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// The next whole value, or nil until more bytes arrive.
    /// - Throws: `RESPParseError`, then the same error on every later call.
    public mutating func next() throws(RESPParseError) -> RESPValue? {
        if let failure { throw failure }
        do {
            return try parseValue()
        } catch {
            failure = error
            throw error
        }
    }

    private mutating func parseValue() throws(RESPParseError) -> RESPValue? {
        while true {
            if stack.isEmpty {
                valueStart = index
                elements = 0
            }
            guard let step = try parseElement() else {
                // Waiting for more: a value that already spans too much is refused before it is whole.
                if buffer.count - valueStart > limits.maxValueBytes { throw RESPParseError(.valueTooLarge) }
                return nil
            }
            if index - valueStart > limits.maxValueBytes { throw RESPParseError(.valueTooLarge) }
            guard case .value(var value) = step else { continue }

            // Climb: a finished element may finish its parent, and so on up; the top level returns it.
            while true {
                guard var frame = stack.popLast() else { return value }
                frame.items.append(value)
                frame.remaining -= 1
                if frame.remaining > 0 {
                    stack.append(frame)
                    break
                }
                guard let finished = Self.finish(frame) else { break }
                value = finished
            }
        }
    }

    /// The aggregate a full frame stands for; nil for an attribute, which is read and dropped.
    private static func finish(_ frame: Frame) -> RESPValue? {
        switch frame.kind {
        case .array: .array(frame.items)
        case .map: .map(frame.items)
        case .push: .push(frame.items)
        case .attribute: nil
        }
    }

    // MARK: One element

    private mutating func parseElement() throws(RESPParseError) -> Step? {
        guard index < buffer.count else { return nil }
        guard let lineEnd = try findLineEnd(from: index + 1) else { return nil }
        let type = buffer[index]
        let line = (index + 1)..<lineEnd
        let afterLine = lineEnd + 2
        switch type {
        case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
            return try parseBulk(type: type, line: line, afterLine: afterLine)
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
            return try openAggregate(type: type, line: line, afterLine: afterLine)
        default:
            let value = try parseSimple(type: type, line: line)
            try consume(to: afterLine)
            return .value(value)
        }
    }

    private func parseSimple(type: UInt8, line: Range<Int>) throws(RESPParseError) -> RESPValue {
        switch type {
        case UInt8(ascii: "+"): return .simpleString(text(line))
        case UInt8(ascii: "-"): return .error(text(line))
        case UInt8(ascii: ":"): return .integer(try RESPNumbers.integer(buffer[line]))
        case UInt8(ascii: "_"):
            guard line.isEmpty else { throw RESPParseError(.badNumber) }
            return .null
        case UInt8(ascii: "#"):
            let flag = line.count == 1 ? buffer[line.lowerBound] : 0
            guard flag == UInt8(ascii: "t") || flag == UInt8(ascii: "f") else { throw RESPParseError(.badNumber) }
            return .boolean(flag == UInt8(ascii: "t"))
        case UInt8(ascii: ","): return .double(try RESPNumbers.double(buffer[line]))
        case UInt8(ascii: "("): return .bigNumber(try RESPNumbers.bigNumber(buffer[line]))
        default: throw RESPParseError(.unknownType)
        }
    }

    private mutating func parseBulk(type: UInt8, line: Range<Int>, afterLine: Int) throws(RESPParseError) -> Step? {
        guard let length = try RESPNumbers.length(buffer[line], allowsNull: type == UInt8(ascii: "$")) else {
            try consume(to: afterLine)
            return .value(.null)
        }
        guard length <= limits.maxBulkBytes else { throw RESPParseError(.bulkTooLarge) }
        let end = afterLine + length
        guard buffer.count >= end + 2 else {
            if end + 2 - valueStart > limits.maxValueBytes { throw RESPParseError(.valueTooLarge) }
            return nil
        }
        guard buffer[end] == 13, buffer[end + 1] == 10 else { throw RESPParseError(.badBulkEnd) }
        let bytes = Array(buffer[afterLine..<end])
        try consume(to: end + 2)
        switch type {
        case UInt8(ascii: "!"):
            return .value(.error(String(decoding: bytes, as: UTF8.self)))
        case UInt8(ascii: "="):
            guard bytes.count >= 4, bytes[3] == UInt8(ascii: ":") else { throw RESPParseError(.badVerbatim) }
            return .value(.bulkString(Array(bytes[4...])))
        default:
            return .value(.bulkString(bytes))
        }
    }

    private mutating func openAggregate(type: UInt8, line: Range<Int>, afterLine: Int) throws(RESPParseError) -> Step {
        let count = try RESPNumbers.length(buffer[line], allowsNull: type == UInt8(ascii: "*"))
        try consume(to: afterLine)
        guard let count else { return .value(.null) }
        let kind: Kind =
            switch type {
            case UInt8(ascii: "%"): .map
            case UInt8(ascii: ">"): .push
            case UInt8(ascii: "|"): .attribute
            default: .array
            }
        // A declared count is checked against what is left of the budget, never used to reserve memory.
        guard count <= limits.maxElements else { throw RESPParseError(.valueTooLarge) }
        let total = kind == .map || kind == .attribute ? count * 2 : count
        guard elements + total <= limits.maxElements else { throw RESPParseError(.valueTooLarge) }
        if total == 0 {
            return kind == .attribute ? .opened : .value(Self.finish(Frame(kind: kind, remaining: 0, items: []))!)
        }
        guard stack.count < limits.maxDepth else { throw RESPParseError(.tooDeep) }
        stack.append(Frame(kind: kind, remaining: total, items: []))
        return .opened
    }

    // MARK: Bytes

    /// Marks the bytes up to `end` as read and counts one element of the current value.
    private mutating func consume(to end: Int) throws(RESPParseError) {
        index = end
        scanStart = -1
        elements += 1
        if elements > limits.maxElements { throw RESPParseError(.valueTooLarge) }
    }

    /// The index of the CR ending the line that starts at `start`, or nil until it has arrived.
    private mutating func findLineEnd(from start: Int) throws(RESPParseError) -> Int? {
        var i = scanStart == start ? scanPosition : start
        let limit = min(buffer.count, start + limits.maxLineBytes + 1)
        while i < limit {
            let byte = buffer[i]
            if byte == 13 {
                guard i + 1 < buffer.count else { break }
                guard buffer[i + 1] == 10 else { throw RESPParseError(.badLineEnd) }
                return i
            }
            if byte == 10 { throw RESPParseError(.badLineEnd) }
            i += 1
        }
        if i - start > limits.maxLineBytes { throw RESPParseError(.lineTooLong) }
        scanStart = start
        scanPosition = i
        return nil
    }

    private func text(_ range: Range<Int>) -> String {
        String(decoding: buffer[range], as: UTF8.self)
    }

    /// Drops bytes already returned, when that is cheap relative to what stays.
    private mutating func compact() {
        guard index > 0 else { return }
        if index == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 64 * 1024)
        } else if index >= 4096 && index * 2 >= buffer.count {
            buffer.removeSubrange(0..<index)
        } else {
            return
        }
        valueStart -= index
        scanStart = -1
        index = 0
    }
}
