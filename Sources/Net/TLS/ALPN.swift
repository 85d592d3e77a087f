import COpenSSL

/// Server-side ALPN choice: `http/1.1` or nothing.
enum ALPN {
    static let http11: [UInt8] = Array("http/1.1".utf8)

    /// Picks `http/1.1` from the client's wire-format list (length-prefixed names), pointing into that list.
    ///
    /// A client that offers ALPN without `http/1.1` gets the `no_application_protocol` alert (RFC 7301).
    static func select(
        out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, outLength: UnsafeMutablePointer<UInt8>?,
        offered: UnsafePointer<UInt8>?, offeredLength: UInt32
    ) -> Int32 {
        guard let out, let outLength, let offered else { return SSL_TLSEXT_ERR_ALERT_FATAL }
        var index = 0
        let end = Int(offeredLength)
        while index < end {
            let length = Int(offered[index])
            let start = index + 1
            guard length > 0, start + length <= end else { return SSL_TLSEXT_ERR_ALERT_FATAL }
            if length == http11.count, (0..<length).allSatisfy({ offered[start + $0] == http11[$0] }) {
                out.pointee = offered + start
                outLength.pointee = UInt8(length)
                return SSL_TLSEXT_ERR_OK
            }
            index = start + length
        }
        return SSL_TLSEXT_ERR_ALERT_FATAL
    }
}
