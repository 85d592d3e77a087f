import FuzzSupport
import RESP

/// Fuzzes the RESP parser: the input is a stream of server replies.
///
/// Properties: fed whole, byte by byte and in 7-byte pieces, the parser yields the same values and the same
/// error; it never holds more bytes than it was given; a command written by `RESPCommand` from the bulk
/// strings of a parsed array parses back to the same array.
enum RESPHarness {
    static let limits = RESPParserLimits(
        maxLineBytes: 256, maxBulkBytes: 1024, maxDepth: 8, maxElements: 256, maxValueBytes: 4096)

    static func run(_ input: UnsafeRawBufferPointer) {
        let bytes = Array(input)
        let whole = parse(bytes, stride: max(bytes.count, 1))
        FuzzCheck.expect(parse(bytes, stride: 1) == whole, "RESP: whole and byte-by-byte feeds disagree")
        FuzzCheck.expect(parse(bytes, stride: 7) == whole, "RESP: whole and 7-byte feeds disagree")
        for case .value(.array(let items)) in whole.0 where !items.isEmpty {
            let arguments = items.compactMap { item -> [UInt8]? in
                if case .bulkString(let bytes) = item { return bytes }
                return nil
            }
            guard arguments.count == items.count else { continue }
            var command = RESPCommand(argumentCount: arguments.count)
            for argument in arguments { command.append(argument) }
            var parser = RESPParser()
            parser.feed(command.bytes)
            FuzzCheck.expect((try? parser.next()) == .array(items), "RESP: a written command does not parse back")
        }
    }

    enum Outcome: Equatable {
        case value(RESPValue)
    }

    /// The values parsed, then the error if one ended the stream.
    static func parse(_ bytes: [UInt8], stride: Int) -> ([Outcome], RESPParseError?) {
        var parser = RESPParser(limits: limits)
        var values: [Outcome] = []
        var start = 0
        repeat {
            let end = min(start + stride, bytes.count)
            parser.feed(Array(bytes[start..<end]))
            start = end
            do {
                while let value = try parser.next() { values.append(.value(value)) }
            } catch {
                return (values, error)
            }
            FuzzCheck.expect(parser.bufferedByteCount <= end, "RESP: more bytes buffered than fed")
        } while start < bytes.count
        return (values, nil)
    }
}

/// libFuzzer in a fuzzing build, a replay of the argument files otherwise (see `FuzzEntry`).
@main
enum FuzzRESPMain {
    static func main() {
        FuzzEntry.main(RESPHarness.run)
    }
}
