import Audit
import Crypto
import DataLayer
import Foundation
import HTTPCodec
import PortalCore
import Testing

/// Sealed lines exactly as a gateway's `AuditLog` writes them.
enum SealedLines {
    /// `count` records written through a real `AuditLog` to a temporary file, as its lines.
    static func make(count: Int, reason: String = "no credential") throws -> [String] {
        let path = NSTemporaryDirectory() + "audit-lines-" + UUID().uuidString + ".log"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = try AuditLog(path: path, commitIntervalMilliseconds: 1)
        for n in 0..<count {
            log.record(
                AuditRecord(
                    type: .authFailure, outcome: .failure, requestID: "req-\(n)", clientAddress: "127.0.0.1",
                    route: "/api/v1/events", reason: reason))
        }
        log.close()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(separator: "\n").map(String.init)
    }

    /// The POST body for `lines` from `source`.
    static func body(source: String, _ lines: [String]) -> String {
        var body: [UInt8] = Array("{\"source\":".utf8)
        JSONEscaping.appendQuoted(source, to: &body)
        body += Array(",\"records\":[".utf8)
        for (index, line) in lines.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            JSONEscaping.appendQuoted(line, to: &body)
        }
        return String(decoding: body + Array("]}".utf8), as: UTF8.self)
    }
}

@Suite("Data layer: audit records")
struct DataLayerAuditTests {
    private func post(_ harness: RouterHarness, _ body: String) -> HTTPResponse {
        harness.send("POST", "/api/v1/audit-records", body: Array(body.utf8))
    }

    @Test("a batch of sealed lines is stored in order, and the head says where the chain ends")
    func storesBatch() throws {
        let harness = try RouterHarness()
        let lines = try SealedLines.make(count: 20)
        let response = post(harness, SealedLines.body(source: "gw-1", Array(lines[0..<12])))
        #expect(response.status == 200)
        let answer = try response.jsonObject()
        #expect(answer["inserted"] as? Int == 12 && answer["duplicates"] as? Int == 0)
        #expect(answer["last_sequence"] as? Int == 12)
        let head = try harness.send("GET", "/api/v1/audit-records/head?source=gw-1", contentType: nil).jsonObject()
        #expect(head["last_sequence"] as? Int == 12)
        let twelfth = try JSONSerialization.jsonObject(with: Data(lines[11].utf8)) as? [String: Any]
        #expect(head["last_hash"] as? String == twelfth?["hash"] as? String)
        let empty = try harness.send("GET", "/api/v1/audit-records/head?source=gw-2", contentType: nil).jsonObject()
        #expect(empty["last_sequence"] as? Int == 0 && empty["last_hash"] is NSNull)
    }

    @Test("sending a batch again inserts nothing twice; an overlapping batch inserts only the rest")
    func idempotent() throws {
        let harness = try RouterHarness()
        let lines = try SealedLines.make(count: 10)
        #expect(post(harness, SealedLines.body(source: "gw", Array(lines[0..<6]))).status == 200)
        let replay = try post(harness, SealedLines.body(source: "gw", Array(lines[0..<6]))).jsonObject()
        #expect(replay["inserted"] as? Int == 0 && replay["duplicates"] as? Int == 6)
        let overlap = try post(harness, SealedLines.body(source: "gw", Array(lines[4..<10]))).jsonObject()
        #expect(overlap["inserted"] as? Int == 4 && overlap["duplicates"] as? Int == 2)
        #expect(overlap["last_sequence"] as? Int == 10)
    }

    @Test("a batch past the head is a 409 gap; one that contradicts the chain is a 409 conflict")
    func gapAndConflict() throws {
        let harness = try RouterHarness()
        let lines = try SealedLines.make(count: 8)
        let other = try SealedLines.make(count: 8, reason: "another file")
        #expect(post(harness, SealedLines.body(source: "gw", Array(lines[0..<3]))).status == 200)
        let gap = post(harness, SealedLines.body(source: "gw", Array(lines[5..<8])))
        #expect(gap.status == 409 && gap.errorCodeAndField.code == "E9351")
        // Records 3-5 of another chain (same sequences, other hashes) do not continue this one.
        let conflict = post(harness, SealedLines.body(source: "gw", Array(other[2..<5])))
        #expect(conflict.status == 409 && conflict.errorCodeAndField.code == "E9352")
        let head = try harness.send("GET", "/api/v1/audit-records/head?source=gw", contentType: nil).jsonObject()
        #expect(head["last_sequence"] as? Int == 3)
    }

    @Test(
        "malformed batches are refused with 400 naming the field",
        arguments: [
            ("not json", "E9301", nil),
            ("[]", "E9301", nil),
            (#"{"source":"gw","records":[],"extra":1}"#, "E9307", "extra"),
            (#"{"records":["x"]}"#, "E9302", "source"),
            (#"{"source":"a b","records":["x"]}"#, "E9304", "source"),
            (#"{"source":"gw","records":"x"}"#, "E9303", "records"),
            (#"{"source":"gw","records":[]}"#, "E9304", "records"),
            (#"{"source":"gw","records":[1]}"#, "E9303", "records[0]"),
            (#"{"source":"gw","records":["{"]}"#, "E9304", "records[0]"),
        ] as [(String, String, String?)])
    func malformed(body: String, code: String, field: String?) throws {
        let response = post(try RouterHarness(), body)
        #expect(response.status == 400)
        #expect(response.errorCodeAndField.code == code)
        #expect(response.errorCodeAndField.field == field)
    }

    @Test(
        "a line that is not a sealed record is refused, naming the member",
        arguments: [
            ("\"sequence\":1,", "\"sequence\":0,", "records[0].sequence"),
            ("\"sequence\":1,", "\"sequence\":\"1\",", "records[0].sequence"),
            ("\"time\":\"", "\"time\":\"x", "records[0].time"),
            ("\"type\":\"auth.failure\"", "\"type\":7", "records[0].type"),
            ("\"route\":\"/api/v1/events\"", "\"route\":[]", "records[0].route"),
            ("\"prev_hash\":\"0000", "\"prev_hash\":\"ZZZZ", "records[0].prev_hash"),
        ])
    func notSealed(find: String, replace: String, field: String) throws {
        let harness = try RouterHarness()
        let line = try SealedLines.make(count: 1)[0]
        #expect(line.contains(find))
        let response = post(
            harness, SealedLines.body(source: "gw", [line.replacingOccurrences(of: find, with: replace)]))
        #expect(response.status == 400)
        #expect(response.errorCodeAndField.field == field)
    }

    @Test("the hash must be the line's last member, so that the stored bytes are the ones it covers")
    func hashLast() throws {
        let line = try SealedLines.make(count: 1)[0]
        let moved = String(line.dropLast()) + ",\"extra\":1}"
        let response = post(try RouterHarness(), SealedLines.body(source: "gw", [moved]))
        #expect(response.status == 400 && response.errorCodeAndField.field == "records[0].hash")
    }

    @Test("a NUL character inside a record is refused with 400, and nothing is stored")
    func nulInRecord() throws {
        let harness = try RouterHarness()
        let line = try SealedLines.make(count: 1, reason: "a\u{0}b")[0]
        #expect(line.contains("\\u0000"))
        let response = post(harness, SealedLines.body(source: "gw", [line]))
        #expect(response.status == 400 && response.errorCodeAndField.code == "E9353")
        let head = try harness.send("GET", "/api/v1/audit-records/head?source=gw", contentType: nil).jsonObject()
        #expect(head["last_sequence"] as? Int == 0)
    }

    @Test("the audit routes need the service key, the right method and a valid source")
    func routing() throws {
        let harness = try RouterHarness()
        let body = SealedLines.body(source: "gw", try SealedLines.make(count: 1))
        #expect(harness.send("POST", "/api/v1/audit-records", body: Array(body.utf8), key: nil).status == 401)
        #expect(harness.send("POST", "/api/v1/audit-records", body: Array(body.utf8), key: "wrong").status == 401)
        let get = harness.send("GET", "/api/v1/audit-records", contentType: nil)
        #expect(get.status == 405 && get.headers.first("Allow") == "POST")
        #expect(
            harness.send("POST", "/api/v1/audit-records", body: Array(body.utf8), contentType: "text/plain").status
                == 415)
        #expect(harness.send("GET", "/api/v1/audit-records/head", contentType: nil).status == 400)
        #expect(harness.send("GET", "/api/v1/audit-records/head?source=a%20b", contentType: nil).status == 400)
        #expect(harness.send("GET", "/api/v1/audit-records/head?source=gw&x=1", contentType: nil).status == 400)
        #expect(harness.send("GET", "/api/v1/audit-records/other", contentType: nil).status == 404)
    }
}
