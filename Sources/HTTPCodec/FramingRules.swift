/// The anti-smuggling rules for `Content-Length` and `Transfer-Encoding` values (RFC 9112 §6).
enum FramingRules {
    /// A `Content-Length` value: strict decimal, or a list of identical strict decimals.
    /// - Throws: 400 for anything else, 413 when the length passes `limit` (including any that would overflow).
    static func contentLength(_ value: UnsafeRawBufferPointer, limit: Int) throws(HTTPParseError) -> Int {
        var result: Int?
        var i = 0
        while true {
            while i < value.count, ByteClass.isOWS(value[i]) { i += 1 }
            var member = 0
            var digits = 0
            var tooLarge = false
            while i < value.count, value[i] >= 0x30, value[i] <= 0x39 {
                let (times, o1) = member.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times.addingReportingOverflow(Int(value[i] - 0x30))
                if o1 || o2 { tooLarge = true } else { member = sum }
                digits += 1
                i += 1
            }
            guard digits > 0 else { throw HTTPParseError(.badContentLength) }
            while i < value.count, ByteClass.isOWS(value[i]) { i += 1 }
            guard i == value.count || value[i] == UInt8(ascii: ",") else { throw HTTPParseError(.badContentLength) }
            if tooLarge || member > limit {
                // Still refuse a list whose members differ as malformed, whatever their size.
                if let previous = result, previous != member || tooLarge { throw HTTPParseError(.badContentLength) }
                throw HTTPParseError(.bodyTooLarge)
            }
            if let previous = result, previous != member { throw HTTPParseError(.badContentLength) }
            result = member
            if i == value.count { break }
            i += 1
        }
        guard let length = result else { throw HTTPParseError(.badContentLength) }
        return length
    }

    /// Checks one `Transfer-Encoding` field's codings, continuing the list of earlier fields.
    ///
    /// `chunked` must be the final coding and appear once; any other coding is not implemented (501).
    static func transferCodings(
        _ value: UnsafeRawBufferPointer, sawChunked: inout Bool
    ) throws(HTTPParseError) {
        var i = 0
        var unsupported = false
        while i <= value.count {
            var end = i
            while end < value.count, value[end] != UInt8(ascii: ",") { end += 1 }
            var s = i
            var e = end
            while s < e, ByteClass.isOWS(value[s]) { s += 1 }
            while e > s, ByteClass.isOWS(value[e - 1]) { e -= 1 }
            guard e > s else { throw HTTPParseError(.badTransferEncoding) }
            let coding = UnsafeRawBufferPointer(rebasing: value[s..<e])
            // Anything after chunked means chunked was not final.
            if sawChunked { throw HTTPParseError(.badTransferEncoding) }
            if ByteClass.equalsIgnoringCase(coding, "chunked") {
                sawChunked = true
            } else {
                for b in coding where !ByteClass.isToken(b) && b != UInt8(ascii: ";") && b != UInt8(ascii: "=") {
                    throw HTTPParseError(.badTransferEncoding)
                }
                unsupported = true
            }
            i = end + 1
        }
        if unsupported { throw HTTPParseError(.unsupportedCoding) }
    }
}
