/// Writes requests to bytes for the upstream client.
public enum HTTPRequestSerializer {
    /// Appends `request` as `method target HTTP/1.1`, its headers as given, then the body.
    ///
    /// `Content-Length` and `Transfer-Encoding` from the request are dropped; `Content-Length` is set from the
    /// body (always for POST, PUT and PATCH, otherwise only when the body is not empty). Fields that could not
    /// be written safely (non-token name, CTL in value) are dropped.
    ///
    /// Fields the strict parser built (`HTTPField.isValidated`) are written without checking their bytes again.
    public static func write(_ request: HTTPRequest, into out: inout [UInt8]) {
        out.reserveCapacity(out.count + HTTPResponseSerializer.headSizeEstimate(request.headers) + request.body.count)
        writeHead(request, bodyLength: request.body.isEmpty ? .none : .known(request.body.count), into: &out)
        out.append(contentsOf: request.body)
    }

    /// Appends the head of a request whose body follows separately (streamed); `request.body` is ignored.
    ///
    /// The framing comes from `bodyLength`: `Content-Length` for a known length, `Transfer-Encoding: chunked`
    /// for an unknown one (the body must then go through `HTTPResponseSerializer.appendChunk`), and
    /// `Content-Length: 0` for no body on POST, PUT and PATCH.
    public static func writeHead(_ request: HTTPRequest, bodyLength: HTTPBodyLength, into out: inout [UInt8]) {
        out.reserveCapacity(out.count + HTTPResponseSerializer.headSizeEstimate(request.headers))
        out.append(contentsOf: request.method.utf8)
        out.append(ByteClass.sp)
        out.append(contentsOf: request.target.utf8)
        out.append(contentsOf: " HTTP/1.1\r\n".utf8)
        for field in request.headers.fields where field.isValidated || HTTPResponseSerializer.isWritable(field) {
            let n = field.name.utf8.count
            if n == 14, HTTPHeaders.namesEqual(field.name, "Content-Length") { continue }
            if n == 17, HTTPHeaders.namesEqual(field.name, "Transfer-Encoding") { continue }
            out.append(contentsOf: field.name.utf8)
            out.append(contentsOf: ": ".utf8)
            field.appendValue(to: &out)
            out.append(contentsOf: "\r\n".utf8)
        }
        let method = request.method
        switch bodyLength {
        case .known(let length):
            out.append(contentsOf: "Content-Length: ".utf8)
            HTTPResponseSerializer.appendDecimal(length, to: &out)
            out.append(contentsOf: "\r\n".utf8)
        case .unknown:
            out.append(contentsOf: "Transfer-Encoding: chunked\r\n".utf8)
        case .none where method == "POST" || method == "PUT" || method == "PATCH":
            out.append(contentsOf: "Content-Length: 0\r\n".utf8)
        case .none:
            break
        }
        out.append(contentsOf: "\r\n".utf8)
    }
}
