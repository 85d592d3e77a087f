import HTTPCodec
import Net
import Testing
import VectorTestSupport

@Suite("HTTPServer answers the shared framing vectors over a real socket")
struct ServerFramingVectorTests {
    @Test("each vector is accepted exactly or rejected with its status and a close")
    func vectors() throws {
        let vectors = try FramingVector.load()
        #expect(vectors.count >= 40)
        for vector in vectors {
            let handler = RecordingHandler()
            let server = try TestServer(handler: handler)
            defer { server.stop() }
            let client = try TestClient(port: server.port)
            client.send(vector.raw)
            let wanted = vector.expect == "reject" ? 1 : max(vector.requests.count, 1)
            let (responses, closed) = client.readResponses(wanted)
            let seen = handler.requests.map {
                FramingVector.Expected(method: $0.method, target: $0.target, body: $0.body)
            }
            let rejected = responses.last.map { $0.status >= 400 } ?? false
            switch vector.expect {
            case "accept":
                #expect(seen == vector.requests, "\(vector.name)")
                #expect(
                    responses.count == vector.requests.count && responses.allSatisfy { $0.status == 200 },
                    "\(vector.name)")
            case "reject":
                #expect(seen.isEmpty, "\(vector.name): handler saw \(seen.count)")
                #expect(rejected, "\(vector.name): no error status")
                if let status = responses.last?.status, !vector.statuses.isEmpty {
                    #expect(vector.statuses.contains(status), "\(vector.name): \(status)")
                }
                #expect(closed || client.waitForClose(), "\(vector.name): connection left open")
                if let body = responses.last?.body {
                    #expect(
                        String(decoding: body, as: UTF8.self).hasPrefix(#"{"error":{"code":"E93"#), "\(vector.name)")
                }
            default:
                #expect(rejected || seen == vector.requests, "\(vector.name)")
            }
        }
    }
}
