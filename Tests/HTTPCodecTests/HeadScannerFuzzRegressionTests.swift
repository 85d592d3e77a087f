import HTTPCodec
import Testing

/// Findings of `Fuzz/FuzzRequestParser`: the same stream must get the same verdict however it is split into reads.
///
/// Before the fix the head scanner checked the start-line and field-section limits only at the end of a read,
/// so a long start line that arrived in one read (with its CRLF) slipped past the 414 that a byte-by-byte
/// feed got, and was then accepted or answered with another status.
@Suite("Head limits do not depend on how the stream is split (fuzz regressions)")
struct HeadScannerFuzzRegressionTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var label: String
        var raw: [UInt8]
        /// The status both feeds must end with; nil when both must accept one request.
        var status: Int?
        var testDescription: String { label }
    }

    /// The harness's small limits: start line up to 128 + 64 bytes, field section up to 512 bytes.
    static let limits = HTTPParserLimits(
        maxHeaderBytes: 512, maxHeaderFields: 16, maxTargetBytes: 128, maxBodyBytes: 1024, maxChunkLineBytes: 64)

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// The input libFuzzer saved (crash-addb39cd…): 227 bytes of start line with NULs, then `GET / HTT`.
    static let fuzzerInput: [UInt8] =
        [UInt8](repeating: 0x77, count: 24) + [0x7F] + [UInt8](repeating: 0x77, count: 4) + [0x75, 0x7B]
        + [UInt8](repeating: 0x75, count: 28) + [0x23] + [UInt8](repeating: 0, count: 7)
        + [UInt8](repeating: 0x75, count: 61) + [UInt8](repeating: 0xBC, count: 73) + [0x77, 0x77, 0x0B]
        + [UInt8](repeating: 0, count: 7) + [UInt8](repeating: 0x77, count: 8)
        + bytes("GET / HTT\r\nX-A: one\r\n two\r\n\r\n")

    static let cases: [Case] = [
        Case(label: "the fuzzer's input", raw: fuzzerInput, status: 414),
        Case(
            label: "a 190-byte method with a short target",
            raw: bytes(String(repeating: "A", count: 190) + " / HTTP/1.1\r\nHost: a\r\n\r\n"), status: 414),
        Case(
            label: "a long start line, then a bare CR",
            raw: bytes("GET /" + String(repeating: "a", count: 200) + "\rX HTTP/1.1\r\nHost: a\r\n\r\n"), status: 414),
        Case(
            label: "a long field section, then a bare LF",
            raw: bytes("GET / HTTP/1.1\r\nHost: a\r\nX-A: " + String(repeating: "v", count: 600) + "\n\r\n"),
            status: 431),
        Case(
            label: "a start line of 189 bytes is within the limit",
            raw: bytes(
                String(repeating: "P", count: 60) + " /" + String(repeating: "t", count: 118)
                    + " HTTP/1.1\r\nHost: a\r\n\r\n"),
            status: nil),
    ]

    /// Feeds `raw` in reads of `stride` bytes; returns the requests parsed and the final status, if any.
    static func verdict(_ raw: [UInt8], stride: Int) -> (requests: Int, status: Int?) {
        var parser = HTTPRequestParser(limits: limits)
        var requests = 0
        var start = 0
        while start < raw.count {
            let end = min(start + stride, raw.count)
            parser.feed(Array(raw[start..<end]))
            start = end
            do {
                while try parser.next() != nil { requests += 1 }
            } catch {
                return (requests, error.status)
            }
        }
        return (requests, nil)
    }

    @Test("a stream fed whole and byte by byte gets the same verdict", arguments: cases)
    func sameVerdict(_ testCase: Case) {
        let whole = Self.verdict(testCase.raw, stride: testCase.raw.count)
        let split = Self.verdict(testCase.raw, stride: 1)
        #expect(whole.status == testCase.status)
        #expect(split.status == testCase.status)
        #expect(whole.requests == split.requests)
        #expect(whole.requests == (testCase.status == nil ? 1 : 0))
    }
}
