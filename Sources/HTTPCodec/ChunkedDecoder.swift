/// De-chunks a `chunked` body (RFC 9112 §7.1) as bytes arrive; trailers are checked and dropped.
struct ChunkedDecoder {
    private enum State {
        case size
        case data(remaining: Int)
        case dataEnd
        case trailers(fields: Int, bytes: Int)
        case done
    }

    private var state = State.size
    let limits: HTTPParserLimits
    /// Chunk data bytes seen so far, checked against `limits.maxBodyBytes` as each chunk size is read.
    private(set) var decodedBytes = 0

    init(limits: HTTPParserLimits) { self.limits = limits }

    /// Consumes what it can of `input`, appending chunk data to `body`.
    /// - Returns: the bytes consumed and whether the final CRLF of the message was seen.
    mutating func decode(
        _ input: UnsafeRawBufferPointer, into body: inout [UInt8]
    ) throws(HTTPParseError) -> (consumed: Int, done: Bool) {
        try decode(input) { body.append(contentsOf: $0) }
    }

    /// Consumes what it can of `input`, handing each run of chunk data to `emit` (valid during the call only).
    /// - Returns: the bytes consumed and whether the final CRLF of the message was seen.
    mutating func decode(
        _ input: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) -> Void
    ) throws(HTTPParseError) -> (consumed: Int, done: Bool) {
        var at = 0
        while true {
            switch state {
            case .done:
                return (at, true)
            case .size:
                guard let lineEnd = try Self.lineEnd(input, from: at, max: limits.maxChunkLineBytes) else {
                    return (at, false)
                }
                let size = try Self.chunkSize(UnsafeRawBufferPointer(rebasing: input[at..<lineEnd]))
                guard size <= limits.maxBodyBytes - decodedBytes else { throw HTTPParseError(.bodyTooLarge) }
                decodedBytes += size
                at = lineEnd + 2
                state = size == 0 ? .trailers(fields: 0, bytes: 0) : .data(remaining: size)
            case .data(let remaining):
                let take = min(remaining, input.count - at)
                if take == 0 { return (at, false) }
                emit(UnsafeRawBufferPointer(rebasing: input[at..<at + take]))
                at += take
                state = take == remaining ? .dataEnd : .data(remaining: remaining - take)
            case .dataEnd:
                if input.count - at < 2 {
                    if input.count > at, input[at] != ByteClass.cr { throw HTTPParseError(.badChunk) }
                    return (at, false)
                }
                guard input[at] == ByteClass.cr, input[at + 1] == ByteClass.lf else { throw HTTPParseError(.badChunk) }
                at += 2
                state = .size
            case .trailers(let fields, let bytes):
                let room = limits.maxHeaderBytes - bytes
                guard let lineEnd = try Self.lineEnd(input, from: at, max: room, tooLong: .headerTooLarge) else {
                    return (at, false)
                }
                if lineEnd == at {
                    at += 2
                    state = .done
                    continue
                }
                _ = try FieldLine.split(UnsafeRawBufferPointer(rebasing: input[at..<lineEnd]))
                guard fields < limits.maxHeaderFields else { throw HTTPParseError(.headerTooLarge) }
                state = .trailers(fields: fields + 1, bytes: bytes + lineEnd + 2 - at)
                at = lineEnd + 2
            }
        }
    }

    /// Index of the CR of the CRLF ending the line at `from`, nil if not yet arrived.
    private static func lineEnd(
        _ input: UnsafeRawBufferPointer, from: Int, max: Int, tooLong: HTTPParseError.Kind = .badChunk
    ) throws(HTTPParseError) -> Int? {
        var i = from
        while i < input.count {
            let b = input[i]
            if b == ByteClass.cr {
                if i + 1 == input.count { return nil }
                guard input[i + 1] == ByteClass.lf else { throw HTTPParseError(.badLineEnding) }
                return i
            }
            if b == ByteClass.lf { throw HTTPParseError(.badLineEnding) }
            i += 1
            if i - from > max { throw HTTPParseError(tooLong) }
        }
        return nil
    }

    /// `chunk-size [ BWS ";" chunk-ext ]`: hex digits only, no sign, no `0x`, no overflow.
    private static func chunkSize(_ line: UnsafeRawBufferPointer) throws(HTTPParseError) -> Int {
        var value: UInt64 = 0
        var i = 0
        while i < line.count, let digit = ByteClass.hexValue(line[i]) {
            // Past 2^60 the value cannot be a body we accept; refuse before it can wrap.
            guard value < (1 << 59) else { throw HTTPParseError(.bodyTooLarge) }
            value = value << 4 | digit
            i += 1
        }
        guard i > 0 else { throw HTTPParseError(.badChunk) }
        if i < line.count {
            // Extensions are ignored, but must be made of visible bytes behind a `;`.
            var j = i
            while j < line.count, ByteClass.isOWS(line[j]) { j += 1 }
            guard j < line.count, line[j] == UInt8(ascii: ";") else { throw HTTPParseError(.badChunk) }
            for k in j..<line.count where !ByteClass.isFieldValueByte(line[k]) { throw HTTPParseError(.badChunk) }
        }
        guard value <= UInt64(Int.max) else { throw HTTPParseError(.bodyTooLarge) }
        return Int(value)
    }
}
