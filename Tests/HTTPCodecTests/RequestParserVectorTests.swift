import HTTPCodec
import Testing
import VectorTestSupport

@Suite("HTTPRequestParser against the shared framing vectors")
struct RequestParserVectorTests {
    /// Parses `raw` fed in pieces of `step` bytes: the requests before the first error, and the error.
    static func parse(_ raw: [UInt8], step: Int) -> ([FramingVector.Expected], HTTPParseError?) {
        var parser = HTTPRequestParser()
        var seen: [FramingVector.Expected] = []
        var at = 0
        while at < raw.count {
            parser.feed(Array(raw[at..<min(at + step, raw.count)]))
            at += step
            do {
                while let r = try parser.next() {
                    seen.append(.init(method: r.method, target: r.target, body: r.body))
                }
            } catch {
                return (seen, error)
            }
        }
        return (seen, nil)
    }

    @Test("the corpus loads and is not empty")
    func corpusLoads() throws {
        #expect(try FramingVector.load().count >= 40)
    }

    @Test("every vector gives its expected result, fed whole or byte by byte", arguments: [1, 7, 1 << 20])
    func vectors(step: Int) throws {
        for vector in try FramingVector.load() {
            let (seen, error) = Self.parse(vector.raw, step: step)
            switch vector.expect {
            case "accept":
                #expect(error == nil, "\(vector.name): \(String(describing: error))")
                #expect(seen == vector.requests, "\(vector.name)")
            case "reject":
                #expect(error != nil, "\(vector.name) was accepted")
                if let error, !vector.statuses.isEmpty {
                    #expect(vector.statuses.contains(error.status), "\(vector.name): \(error.status)")
                }
            default:
                #expect(error != nil || seen == vector.requests, "\(vector.name)")
            }
        }
    }
}
