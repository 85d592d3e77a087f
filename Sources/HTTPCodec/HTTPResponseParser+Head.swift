extension HTTPResponseParser {
    /// Parses a head when complete and moves to the body state; false when more bytes are needed.
    mutating func parseHeadIfComplete() throws(HTTPParseError) -> Bool {
        let start = readIndex
        let limits = self.limits
        var scanner = self.scanner
        let parsed = try buffer.withUnsafeBytes { all in
            Result { () throws(HTTPParseError) -> (HTTPResponse, Framing, Bool, Int)? in
                let head = UnsafeRawBufferPointer(rebasing: all[start...])
                guard let length = try scanner.scan(head), let lineEnd = scanner.startLineEnd else { return nil }
                let (response, framing, keepAlive) = try Self.parseHead(
                    UnsafeRawBufferPointer(rebasing: head[..<length]), startLineEnd: lineEnd, limits: limits)
                return (response, framing, keepAlive, length)
            }
        }.get()
        guard let (response, framing, keepAlive, length) = parsed else {
            self.scanner = scanner
            return false
        }
        scanner.reset()
        self.scanner = scanner
        readIndex += length
        if response.status < 200 {
            // Interim responses are skipped; 101 would switch protocols, which this client never asks for.
            if response.status == 101 { throw HTTPParseError(.badStartLine) }
            return true
        }
        let bodyless = isHeadRequest || response.status == 204 || response.status == 304
        if case .length(let n) = framing { lastDeclaredLength = n } else { lastDeclaredLength = nil }
        switch bodyless ? Framing.none : framing {
        case .none:
            state = .length(response, remaining: 0)
        case .length(let n):
            state = .length(response, remaining: n)
        case .chunked:
            state = .chunked(response, ChunkedDecoder(limits: limits))
        case .untilClose:
            state = .untilClose(response)
        }
        if case .untilClose = framing, !bodyless {
            lastResponseKeepAlive = false
        } else {
            lastResponseKeepAlive = keepAlive
        }
        return true
    }

    private static func parseHead(
        _ head: UnsafeRawBufferPointer, startLineEnd: Int, limits: HTTPParserLimits
    ) throws(HTTPParseError) -> (HTTPResponse, Framing, Bool) {
        // `HTTP/1.x SP 3DIGIT SP reason`, reason possibly empty.
        let line = UnsafeRawBufferPointer(rebasing: head[..<(startLineEnd - 2)])
        guard line.count >= 12, line[8] == ByteClass.sp else { throw HTTPParseError(.badStartLine) }
        let version = try HTTPRequestParser.parseVersion(UnsafeRawBufferPointer(rebasing: line[..<8]))
        var status = 0
        for i in 9..<12 {
            guard line[i] >= 0x30, line[i] <= 0x39 else { throw HTTPParseError(.badStartLine) }
            status = status * 10 + Int(line[i] - 0x30)
        }
        guard status >= 100, line.count == 12 || line[12] == ByteClass.sp else { throw HTTPParseError(.badStartLine) }
        for i in 12..<line.count where !ByteClass.isFieldValueByte(line[i]) { throw HTTPParseError(.badStartLine) }
        var headers = HTTPHeaders()
        var contentLength: Int?
        var sawTransferEncoding = false
        var chunked = false
        var close = false
        var keepAliveToken = false
        let fields = UnsafeRawBufferPointer(rebasing: head[startLineEnd...])
        try FieldLine.forEach(in: fields) { (line, nameRange, valueRange) throws(HTTPParseError) in
            let name = UnsafeRawBufferPointer(rebasing: line[nameRange])
            let value = UnsafeRawBufferPointer(rebasing: line[valueRange])
            let text = ByteClass.string(value)
            switch name.count {
            case 10 where ByteClass.equalsIgnoringCase(name, "connection"):
                for token in text.split(separator: ",") {
                    let t = String(token.trimmingSpaces())
                    if HTTPHeaders.namesEqual(t, "close") { close = true }
                    if HTTPHeaders.namesEqual(t, "keep-alive") { keepAliveToken = true }
                }
            case 14 where ByteClass.equalsIgnoringCase(name, "content-length"):
                let length = try FramingRules.contentLength(value, limit: limits.maxBodyBytes)
                if let previous = contentLength, previous != length { throw HTTPParseError(.badContentLength) }
                contentLength = length
            case 17 where ByteClass.equalsIgnoringCase(name, "transfer-encoding"):
                try FramingRules.transferCodings(value, sawChunked: &chunked)
                sawTransferEncoding = true
            default:
                break
            }
            headers.add(ByteClass.field(name: name, value: value, text: text))
        }
        let keepAlive = !close && (version == .http1_1 || keepAliveToken)
        let response = HTTPResponse(status: status, headers: headers)
        if sawTransferEncoding {
            if contentLength != nil { throw HTTPParseError(.conflictingFraming) }
            return (response, .chunked, keepAlive)
        }
        if let length = contentLength { return (response, .length(length), keepAlive) }
        return (response, .untilClose, false)
    }
}
