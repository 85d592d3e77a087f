/// Parses and checks one field line (RFC 9112 §5) without its CRLF.
enum FieldLine {
    /// The name and OWS-trimmed value ranges of `line`, or an error for any byte out of place.
    @inline(__always)
    static func split(_ line: UnsafeRawBufferPointer) throws(HTTPParseError) -> (name: Range<Int>, value: Range<Int>) {
        let count = line.count
        guard count > 0 else { throw HTTPParseError(.badFieldLine) }
        // A line that starts with whitespace continues the previous one: obs-fold, refused.
        if ByteClass.isOWS(line[0]) { throw HTTPParseError(.obsFold) }
        var colon = 0
        while colon < count, line[colon] != ByteClass.colon {
            guard ByteClass.isToken(line[colon]) else { throw HTTPParseError(.badFieldLine) }
            colon += 1
        }
        guard colon > 0, colon < count else { throw HTTPParseError(.badFieldLine) }
        var start = colon + 1
        var end = count
        for i in start..<end where !ByteClass.isFieldValueByte(line[i]) { throw HTTPParseError(.badFieldLine) }
        while start < end, ByteClass.isOWS(line[start]) { start += 1 }
        while end > start, ByteClass.isOWS(line[end - 1]) { end -= 1 }
        return (0..<colon, start..<end)
    }

    /// Calls `body` with each field line of a field section that ends in an empty line.
    ///
    /// `section` starts at the first field line; every line in it already ends in CRLF (the scanner checked).
    @inline(__always)
    static func forEach(
        in section: UnsafeRawBufferPointer,
        _ body: (UnsafeRawBufferPointer, Range<Int>, Range<Int>) throws(HTTPParseError) -> Void
    ) throws(HTTPParseError) {
        var lineStart = 0
        var i = 0
        while i < section.count {
            guard section[i] == ByteClass.lf else {
                i += 1
                continue
            }
            let lineEnd = i - 1
            if lineEnd == lineStart { return }
            let line = UnsafeRawBufferPointer(rebasing: section[lineStart..<lineEnd])
            let (name, value) = try split(line)
            try body(line, name, value)
            lineStart = i + 1
            i += 1
        }
    }
}
