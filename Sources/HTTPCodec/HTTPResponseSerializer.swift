/// Writes responses to bytes for the server.
///
/// The serializer owns framing: it writes `Content-Length` (and `Connection: close` when asked) itself
/// and drops any `Content-Length`, `Transfer-Encoding` or `Connection` field the handler set. A field whose
/// name is not a token or whose value holds CR, LF, NUL or another control byte is dropped, never written.
public enum HTTPResponseSerializer {
    /// Appends `response` to `out`.
    ///
    /// Fields the strict parser built (`HTTPField.isValidated`) are written without checking their bytes again.
    /// - Parameters:
    ///   - keepAlive: false adds `Connection: close`.
    ///   - isHeadRequest: true writes the head only (the `Content-Length` still states the body's size).
    public static func write(_ response: HTTPResponse, keepAlive: Bool, isHeadRequest: Bool, into out: inout [UInt8]) {
        out.reserveCapacity(out.count + headSizeEstimate(response.headers) + response.body.count)
        let status = appendStatusAndFields(response, to: &out)
        // 1xx and 204 carry no body and no length; 304 describes a body it does not carry.
        let bodyless = status < 200 || status == 204 || status == 304
        if status >= 200, status != 204 {
            out.append(contentsOf: "Content-Length: ".utf8)
            appendDecimal(response.body.count, to: &out)
            out.append(contentsOf: "\r\n".utf8)
        }
        if !keepAlive { out.append(contentsOf: "Connection: close\r\n".utf8) }
        out.append(contentsOf: "\r\n".utf8)
        if !bodyless, !isHeadRequest { out.append(contentsOf: response.body) }
    }

    /// Appends the head of a response whose body follows separately (streamed); `response.body` is ignored.
    ///
    /// - Parameters:
    ///   - contentLength: written as `Content-Length` when given (also for HEAD and 304, describing the body).
    ///   - chunked: writes `Transfer-Encoding: chunked`; the body must then go through `appendChunk`.
    ///   - keepAlive: false adds `Connection: close`.
    public static func writeHead(
        _ response: HTTPResponse, contentLength: Int?, chunked: Bool, keepAlive: Bool, into out: inout [UInt8]
    ) {
        out.reserveCapacity(out.count + headSizeEstimate(response.headers))
        appendStatusAndFields(response, to: &out)
        if let contentLength {
            out.append(contentsOf: "Content-Length: ".utf8)
            appendDecimal(contentLength, to: &out)
            out.append(contentsOf: "\r\n".utf8)
        } else if chunked {
            out.append(contentsOf: "Transfer-Encoding: chunked\r\n".utf8)
        }
        if !keepAlive { out.append(contentsOf: "Connection: close\r\n".utf8) }
        out.append(contentsOf: "\r\n".utf8)
    }

    /// Appends `bytes` as one chunk of a chunked body (nothing for an empty buffer, which would end it).
    public static func appendChunk(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        appendHex(bytes.count, to: &out)
        out.append(contentsOf: "\r\n".utf8)
        out.append(contentsOf: bytes)
        out.append(contentsOf: "\r\n".utf8)
    }

    /// The last chunk and the empty trailer section that end a chunked body.
    public static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)

    /// The status line and the writable, non-framing fields; returns the status written.
    @discardableResult
    private static func appendStatusAndFields(_ response: HTTPResponse, to out: inout [UInt8]) -> Int {
        // A status outside 100...599 is a handler bug; answer 500 rather than write a malformed line.
        let status = (100...599).contains(response.status) ? response.status : 500
        out.append(contentsOf: "HTTP/1.1 ".utf8)
        appendDecimal(status, to: &out)
        out.append(ByteClass.sp)
        out.append(contentsOf: HTTPResponse.reasonPhrase(status).utf8)
        out.append(contentsOf: "\r\n".utf8)
        for field in response.headers.fields
        where (field.isValidated || isWritable(field)) && !isFramingField(field.name) {
            out.append(contentsOf: field.name.utf8)
            out.append(contentsOf: ": ".utf8)
            field.appendValue(to: &out)
            out.append(contentsOf: "\r\n".utf8)
        }
        return status
    }

    /// Whether `field` may be written: its name is a token and its value holds no CR, LF, NUL or other CTL.
    public static func isWritable(_ field: HTTPField) -> Bool {
        let name = field.name.utf8
        guard !name.isEmpty, name.allSatisfy(ByteClass.isToken) else { return false }
        if let raw = field.rawValue { return raw.allSatisfy(ByteClass.isFieldValueByte) }
        return field.value.utf8.allSatisfy(ByteClass.isFieldValueByte)
    }

    /// Whether `name` is one of the fields that frame the message, which only the serializer writes.
    static func isFramingField(_ name: String) -> Bool {
        switch name.utf8.count {
        case 10: HTTPHeaders.namesEqual(name, "Connection")
        case 14: HTTPHeaders.namesEqual(name, "Content-Length")
        case 17: HTTPHeaders.namesEqual(name, "Transfer-Encoding")
        default: false
        }
    }

    /// Bytes a head with `headers` takes, give or take the start line and framing fields: for reserving.
    static func headSizeEstimate(_ headers: HTTPHeaders) -> Int {
        var size = 128
        for field in headers.fields { size += field.name.utf8.count + field.value.utf8.count + 4 }
        return size
    }

    /// Appends `value` in lower-case hexadecimal, as a chunk size.
    static func appendHex(_ value: Int, to out: inout [UInt8]) {
        precondition(value >= 0, "chunk sizes are not negative")
        var shift = 60
        while shift > 0, (value >> shift) & 0xF == 0 { shift -= 4 }
        while shift >= 0 {
            let digit = UInt8((value >> shift) & 0xF)
            out.append(digit < 10 ? 0x30 + digit : 0x57 + digit)
            shift -= 4
        }
    }

    /// Appends the decimal digits of `value` without allocating.
    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        precondition(value >= 0, "lengths and statuses are not negative")
        if value < 10 {
            out.append(0x30 + UInt8(value))
            return
        }
        // Int.max has 19 digits; fill a fixed buffer from the end, then copy the used part.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = digits.count
            var v = value
            while v > 0 {
                start -= 1
                digits[start] = 0x30 + UInt8(v % 10)
                v /= 10
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }
}
