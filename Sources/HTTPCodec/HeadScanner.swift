/// Finds the end of a message head as bytes arrive, enforcing CRLF and the size limits early,
/// so an attacker cannot make the parser buffer past a limit before it refuses.
struct HeadScanner {
    /// Index of the next byte to examine, relative to the head's first byte.
    private var scanIndex = 0
    /// Index just past the start line's CRLF, once seen.
    private(set) var startLineEnd: Int?
    private var lineStart = 0
    private(set) var fieldCount = 0

    /// The longest start line before the head is refused with `startLineError`.
    let maxStartLineBytes: Int
    let startLineError: HTTPParseError.Kind
    let maxFieldBytes: Int
    let maxFields: Int

    init(maxStartLineBytes: Int, startLineError: HTTPParseError.Kind, limits: HTTPParserLimits) {
        self.maxStartLineBytes = maxStartLineBytes
        self.startLineError = startLineError
        self.maxFieldBytes = limits.maxHeaderBytes
        self.maxFields = limits.maxHeaderFields
    }

    mutating func reset() {
        scanIndex = 0
        startLineEnd = nil
        lineStart = 0
        fieldCount = 0
    }

    /// Scans `head` (bytes from the head's first byte) and returns the head's length through its
    /// final empty line, or nil when more bytes are needed.
    mutating func scan(_ head: UnsafeRawBufferPointer) throws(HTTPParseError) -> Int? {
        var i = scanIndex
        let count = head.count
        while i < count {
            let b = head[i]
            if b == ByteClass.cr {
                // A CR must be followed by LF; at the end of the buffer, wait to see.
                if i + 1 == count { break }
                guard head[i + 1] == ByteClass.lf else { throw HTTPParseError(.badLineEnding) }
                i += 1
                continue
            }
            if b != ByteClass.lf {
                i += 1
                // Checked at every byte, not only at the end of a read: the verdict on a stream must not
                // depend on how it was split into reads.
                try checkLimits(scannedThrough: i)
                continue
            }
            guard i > 0, head[i - 1] == ByteClass.cr else { throw HTTPParseError(.badLineEnding) }
            let lineLength = i - 1 - lineStart
            lineStart = i + 1
            i += 1
            guard let fieldsStart = startLineEnd else {
                startLineEnd = i
                continue
            }
            if lineLength == 0 {
                scanIndex = i
                return i
            }
            fieldCount += 1
            if fieldCount > maxFields { throw HTTPParseError(.headerTooLarge) }
            if i - fieldsStart > maxFieldBytes { throw HTTPParseError(.headerTooLarge) }
        }
        scanIndex = i
        try checkLimits(scannedThrough: i)
        return nil
    }

    /// Throws when the `scanned` bytes of an unfinished head are past the start-line or field-section limit.
    private func checkLimits(scannedThrough scanned: Int) throws(HTTPParseError) {
        if let fieldsStart = startLineEnd {
            if scanned - fieldsStart > maxFieldBytes { throw HTTPParseError(.headerTooLarge) }
        } else if scanned > maxStartLineBytes {
            throw HTTPParseError(startLineError)
        }
    }
}
