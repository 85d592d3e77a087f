extension HTTPRequestParser {
    /// Parses a complete head (request line, field lines, empty line) and decides the body's framing.
    ///
    /// `expectsContinue` is true when an HTTP/1.1 client sent `Expect: 100-continue` and a body
    /// follows. An `Expect` of anything else is refused with 417, after every framing check, so a
    /// head that also breaks a limit is answered with that limit's status.
    static func parseHead(
        _ head: UnsafeRawBufferPointer, startLineEnd: Int, limits: HTTPParserLimits
    ) throws(HTTPParseError) -> (HTTPRequest, Framing, expectsContinue: Bool) {
        let line = UnsafeRawBufferPointer(rebasing: head[..<(startLineEnd - 2)])
        let (method, target, version) = try parseRequestLine(line, limits: limits)
        var headers = HTTPHeaders()
        var hostCount = 0
        var contentLength: Int?
        var sawTransferEncoding = false
        var chunked = false
        var sawContinue = false
        var sawOtherExpectation = false
        let fields = UnsafeRawBufferPointer(rebasing: head[startLineEnd...])
        try FieldLine.forEach(in: fields) { (line, nameRange, valueRange) throws(HTTPParseError) in
            let name = UnsafeRawBufferPointer(rebasing: line[nameRange])
            let value = UnsafeRawBufferPointer(rebasing: line[valueRange])
            switch name.count {
            case 4 where ByteClass.equalsIgnoringCase(name, "host"):
                hostCount += 1
                // RFC 9112 §3.2: a Host that is not a valid host and optional port is answered 400.
                guard HostHeader.isValid(value) else { throw HTTPParseError(.badHost) }
            case 14 where ByteClass.equalsIgnoringCase(name, "content-length"):
                let length = try FramingRules.contentLength(value, limit: limits.maxBodyBytes)
                if let previous = contentLength, previous != length { throw HTTPParseError(.badContentLength) }
                contentLength = length
            case 17 where ByteClass.equalsIgnoringCase(name, "transfer-encoding"):
                // Codings may be split over several fields; only a final `chunked` is understood.
                try FramingRules.transferCodings(value, sawChunked: &chunked)
                sawTransferEncoding = true
            case 6 where ByteClass.equalsIgnoringCase(name, "expect"):
                if ByteClass.equalsIgnoringCase(value, "100-continue") {
                    sawContinue = true
                } else {
                    sawOtherExpectation = true
                }
            default:
                break
            }
            headers.add(ByteClass.field(name: name, value: value, text: ByteClass.string(value)))
        }
        if version == .http1_1 ? hostCount != 1 : hostCount > 1 { throw HTTPParseError(.badHost) }
        let request = HTTPRequest(method: method, target: target, version: version, headers: headers)
        let framing: Framing
        if sawTransferEncoding {
            if contentLength != nil { throw HTTPParseError(.conflictingFraming) }
            if version == .http1_0 { throw HTTPParseError(.badTransferEncoding) }
            if !chunked { throw HTTPParseError(.unsupportedCoding) }
            framing = .chunked
        } else if let length = contentLength, length > 0 {
            framing = .length(length)
        } else {
            framing = .none
        }
        if sawOtherExpectation { throw HTTPParseError(.expectationFailed) }
        // RFC 9110 §10.1.1: an HTTP/1.0 client cannot take a 100 response, so its expectation is ignored.
        let hasBody = if case .none = framing { false } else { true }
        return (request, framing, sawContinue && hasBody && version == .http1_1)
    }

    /// `method SP request-target SP HTTP-version`, each part strictly checked.
    private static func parseRequestLine(
        _ line: UnsafeRawBufferPointer, limits: HTTPParserLimits
    ) throws(HTTPParseError) -> (String, String, HTTPVersion) {
        var i = 0
        while i < line.count, line[i] != ByteClass.sp {
            guard ByteClass.isToken(line[i]) else { throw HTTPParseError(.badStartLine) }
            i += 1
        }
        guard i > 0, i < line.count else { throw HTTPParseError(.badStartLine) }
        let methodEnd = i
        i += 1
        let targetStart = i
        while i < line.count, line[i] != ByteClass.sp {
            guard ByteClass.isTargetByte(line[i]) else { throw HTTPParseError(.badStartLine) }
            i += 1
        }
        guard i > targetStart, i < line.count else { throw HTTPParseError(.badStartLine) }
        if i - targetStart > limits.maxTargetBytes { throw HTTPParseError(.targetTooLong) }
        let targetEnd = i
        let version = try parseVersion(UnsafeRawBufferPointer(rebasing: line[(i + 1)...]))
        let method = String(decoding: UnsafeRawBufferPointer(rebasing: line[..<methodEnd]), as: UTF8.self)
        let target = String(decoding: UnsafeRawBufferPointer(rebasing: line[targetStart..<targetEnd]), as: UTF8.self)
        return (method, target, version)
    }

    /// Exactly `HTTP/1.0` or `HTTP/1.1`; another well-formed `HTTP/d.d` is 505, anything else 400.
    static func parseVersion(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) -> HTTPVersion {
        guard bytes.count == 8, bytes[0] == 0x48, bytes[1] == 0x54, bytes[2] == 0x54, bytes[3] == 0x50,
            bytes[4] == 0x2F, bytes[6] == 0x2E
        else { throw HTTPParseError(.badStartLine) }
        let major = bytes[5]
        let minor = bytes[7]
        guard (0x30...0x39).contains(major), (0x30...0x39).contains(minor) else {
            throw HTTPParseError(.badStartLine)
        }
        if major == 0x31, minor == 0x31 { return .http1_1 }
        if major == 0x31, minor == 0x30 { return .http1_0 }
        throw HTTPParseError(.unsupportedVersion)
    }
}
