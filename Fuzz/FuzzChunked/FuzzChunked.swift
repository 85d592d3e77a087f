import FuzzSupport
import HTTPCodec

/// Fuzzes the chunked decoder through both parsers, and the response parser on its own.
///
/// The first input byte picks the mode; the rest is the stream:
/// - 0: a request head with `Transfer-Encoding: chunked`, then the input as the chunked body;
/// - 1: a `200` response head with `Transfer-Encoding: chunked`, then the input, then end of stream;
/// - 2 and 3: the input as a whole upstream response stream, answering `GET` (2) or `HEAD` (3).
/// Responses are fed whole and in 7-byte pieces; both feeds must agree.
enum ChunkedHarness {
    static let limits = HTTPParserLimits(
        maxHeaderBytes: 512, maxHeaderFields: 16, maxTargetBytes: 128, maxBodyBytes: 1024, maxChunkLineBytes: 64)
    static let requestHead = Array("POST /upload HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
    static let responseHead = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)

    static func run(_ input: UnsafeRawBufferPointer) {
        guard let mode = input.first else { return }
        let stream = Array(input.dropFirst())
        switch mode % 4 {
        case 0:
            requestBody(requestHead + stream)
        case 1:
            responses(responseHead + stream, method: "GET")
        case 2:
            responses(stream, method: "GET")
        default:
            responses(stream, method: "HEAD")
        }
    }

    /// A request whose chunked body is the fuzz input: whole and byte by byte must agree.
    static func requestBody(_ bytes: [UInt8]) {
        func parse(stride: Int) -> ([UInt8]?, String?) {
            var parser = HTTPRequestParser(limits: limits)
            var start = 0
            repeat {
                let end = min(start + stride, bytes.count)
                parser.feed(Array(bytes[start..<end]))
                start = end
                do {
                    if let request = try parser.next() { return (request.body, nil) }
                } catch {
                    return (nil, error.code)
                }
            } while start < bytes.count
            return (nil, nil)
        }
        let whole = parse(stride: bytes.count)
        let split = parse(stride: 1)
        FuzzCheck.expect(whole == split, "chunked request: whole and byte-by-byte feeds disagree")
        if let body = whole.0 { FuzzCheck.expect(body.count <= limits.maxBodyBytes, "body past maxBodyBytes") }
    }

    /// Responses from an upstream, then end of stream.
    static func responses(_ bytes: [UInt8], method: String) {
        let whole = parseResponses(bytes, method: method, stride: max(bytes.count, 1))
        let split = parseResponses(bytes, method: method, stride: 7)
        FuzzCheck.expect(whole == split, "responses: whole and split feeds disagree")
    }

    /// Each response's status and body, then the error code if any.
    static func parseResponses(_ bytes: [UInt8], method: String, stride: Int) -> [String] {
        var parser = HTTPResponseParser(limits: limits)
        var seen: [String] = []
        parser.expectResponse(toMethod: method)
        var start = 0
        repeat {
            let end = min(start + stride, bytes.count)
            parser.feed(Array(bytes[start..<end]))
            start = end
            do {
                while let response = try parser.next() {
                    FuzzCheck.expect(response.body.count <= limits.maxBodyBytes, "response body past maxBodyBytes")
                    seen.append("\(response.status) \(response.body)")
                    parser.expectResponse(toMethod: method)
                }
            } catch {
                seen.append(error.code)
                return seen
            }
        } while start < bytes.count
        do {
            if let response = try parser.finish() { seen.append("\(response.status) \(response.body) at close") }
        } catch {
            seen.append("finish " + error.code)
        }
        return seen
    }
}

/// libFuzzer in a fuzzing build, a replay of the argument files otherwise (see `FuzzEntry`).
@main
enum FuzzChunkedMain {
    static func main() {
        FuzzEntry.main(ChunkedHarness.run)
    }
}
