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
        if !request.body.isEmpty || method == "POST" || method == "PUT" || method == "PATCH" {
            out.append(contentsOf: "Content-Length: ".utf8)
            HTTPResponseSerializer.appendDecimal(request.body.count, to: &out)
            out.append(contentsOf: "\r\n".utf8)
        }
        out.append(contentsOf: "\r\n".utf8)
        out.append(contentsOf: request.body)
    }
}
