/// Checks on the request path made before routing.
enum RequestPath {
    /// Whether the path (the target before `?`) holds a `.` or `..` segment, written literally or
    /// percent-encoded (`%2e`, either case).
    ///
    /// Routes match by prefix and the path is forwarded unchanged, so an upstream that resolves dot
    /// segments would serve `/public/../admin` as `/admin`: a path outside the route that authorised it.
    static func hasDotSegment(_ target: String) -> Bool {
        var dots = 0
        var segmentLength = 0
        var bytes = target.utf8.makeIterator()
        var pending: [UInt8] = []
        while true {
            let byte = pending.isEmpty ? bytes.next() : pending.removeFirst()
            guard let byte, byte != UInt8(ascii: "?"), byte != UInt8(ascii: "#") else { break }
            if byte == UInt8(ascii: "/") {
                if segmentLength > 0 && dots == segmentLength && dots <= 2 { return true }
                dots = 0
                segmentLength = 0
                continue
            }
            segmentLength += 1
            if byte == UInt8(ascii: ".") {
                dots += 1
            } else if byte == UInt8(ascii: "%") {
                // `%2e` counts as one dot; any other escape is an ordinary byte of the segment.
                let high = bytes.next()
                let low = bytes.next()
                if high == UInt8(ascii: "2"), low == UInt8(ascii: "e") || low == UInt8(ascii: "E") {
                    dots += 1
                } else {
                    pending = [high, low].compactMap { $0 }
                }
            }
        }
        return segmentLength > 0 && dots == segmentLength && dots <= 2
    }
}
