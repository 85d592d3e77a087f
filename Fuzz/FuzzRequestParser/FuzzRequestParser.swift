import FuzzSupport
import HTTPCodec

/// Fuzzes `HTTPRequestParser`: the input is the byte stream of one connection.
///
/// The stream is parsed twice, fed whole and fed one byte at a time, calling `next()` until it returns nil
/// or throws. Beyond "never crashes, never hangs", both feeds must yield the same requests and the same final
/// error: a parser whose verdict depends on how TCP segments the stream is a request-smuggling risk.
enum RequestParserHarness {
    /// What one feed produced: each request's method, target, headers and body, then the error code if any.
    struct Outcome: Equatable {
        var requests: [[String]] = []
        var bodies: [[UInt8]] = []
        var errorCode: String?
    }

    /// Small limits so that the limit paths are reached by short inputs (libFuzzer keeps inputs short).
    static let limits = HTTPParserLimits(
        maxHeaderBytes: 512, maxHeaderFields: 16, maxTargetBytes: 128, maxBodyBytes: 1024, maxChunkLineBytes: 64)

    static func run(_ input: UnsafeRawBufferPointer) {
        let whole = parse(input, stride: max(input.count, 1))
        let split = parse(input, stride: 1)
        FuzzCheck.expect(whole == split, "whole and byte-by-byte feeds disagree")
    }

    /// Feeds `input` in pieces of `stride` bytes, draining `next()` after each piece.
    static func parse(_ input: UnsafeRawBufferPointer, stride: Int) -> Outcome {
        var parser = HTTPRequestParser(limits: limits)
        var outcome = Outcome()
        var start = 0
        repeat {
            let end = min(start + stride, input.count)
            parser.feed(UnsafeRawBufferPointer(rebasing: input[start..<end]))
            start = end
            do {
                while let request = try parser.next() {
                    outcome.requests.append(describe(request))
                    outcome.bodies.append(request.body)
                    _ = parser.takeContinueRequest()
                }
            } catch {
                outcome.errorCode = error.code
                return outcome
            }
        } while start < input.count
        return outcome
    }

    /// The parts of a request the two feeds must agree on, as strings.
    static func describe(_ request: HTTPRequest) -> [String] {
        var parts = [request.method, request.target, request.version.description, String(request.keepAlive)]
        for field in request.headers.fields {
            parts.append(field.name + ": " + field.value)
        }
        return parts
    }
}

/// libFuzzer in a fuzzing build, a replay of the argument files otherwise (see `FuzzEntry`).
@main
enum FuzzRequestParserMain {
    static func main() {
        FuzzEntry.main(RequestParserHarness.run)
    }
}
