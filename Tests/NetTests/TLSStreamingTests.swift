import Foundation
import Net
import Testing

@Suite("A streaming handler over TLS, with curl")
struct TLSStreamingTests {
    @Test("large answers by length and chunked, and a large upload, pass through TLS whole")
    func largeBodiesOverTLS() throws {
        let handler = StreamingTestHandler()
        let server = try TLSTestServer(handler: handler)
        defer { server.stop() }
        let size = 8_000_000
        for path in ["/stream/\(size)", "/stream-unknown/\(size)"] {
            let download = server.curl([path], ["-o", "/dev/null", "-w", "%{http_code} %{size_download}"])
            #expect(download.status == 0 && download.output == "200 \(size)", "\(path): \(download.output.prefix(200))")
        }

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tls-upload-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(count: 500_000).write(to: file)
        let upload = server.curl(
            ["/echo"], ["--data-binary", "@\(file.path)", "-H", "Content-Type: application/octet-stream"])
        #expect(upload.status == 0, "\(upload.output)")
        #expect(upload.output.hasPrefix("n=500000 parts="), "\(upload.output)")
    }
}
