import Foundation
import Testing

@testable import Audit

@Suite("AuditRecord")
struct AuditRecordTests {
    private func decode(_ line: [UInt8]) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
        return try #require(object)
    }

    @Test("a sealed line is one JSON object with every field, the hash last and correct")
    func sealedLineHasAllFields() throws {
        var record = AuditRecord(
            type: .authFailure, outcome: .failure, requestID: "req-1", clientAddress: "203.0.113.7",
            subject: "consumer-9", route: "/api/v1/events", reason: "expired", tokenFingerprint: "0123456789abcdef")
        record.sequence = 42
        record.timeMicroseconds = 1_767_225_600_123_456
        let line = record.sealLine()
        #expect(line.last == UInt8(ascii: "\n"))
        #expect(line.filter { $0 == UInt8(ascii: "\n") }.count == 1)
        let object = try decode(Array(line.dropLast()))
        let expected: [String: String] = [
            "time": "2026-01-01T00:00:00.123456Z", "type": "auth.failure", "outcome": "failure",
            "request_id": "req-1", "client_address": "203.0.113.7", "subject": "consumer-9",
            "route": "/api/v1/events", "reason": "expired", "token_fingerprint": "0123456789abcdef",
            "prev_hash": AuditRecord.genesisHash, "hash": record.hash,
        ]
        for (key, value) in expected { #expect(object[key] as? String == value, "field \(key)") }
        #expect((object["sequence"] as? NSNumber)?.intValue == 42)
        #expect(object.count == 12)
        let tail = try AuditChainTail.parse(Array(line.dropLast()))
        #expect(tail == AuditChainTail(lastSequence: 42, lastHash: record.hash))
    }

    @Test("the line is byte for byte the documented format, and its hash is SHA-256 of the canonical bytes")
    func goldenLine() {
        var record = AuditRecord(
            type: .authFailure, outcome: .failure, requestID: "req-1", clientAddress: "203.0.113.7",
            subject: "consumer \"9\"", route: "/api/v1/events", tokenFingerprint: "0123456789abcdef")
        record.sequence = 42
        record.timeMicroseconds = 1_767_225_600_123_456
        // Canonical bytes and hash computed outside Swift (Python's json format and hashlib.sha256).
        let canonical =
            #"{"time":"2026-01-01T00:00:00.123456Z","sequence":42,"type":"auth.failure","outcome":"failure","#
            + #""request_id":"req-1","client_address":"203.0.113.7","subject":"consumer \"9\"","#
            + #""route":"/api/v1/events","reason":null,"token_fingerprint":"0123456789abcdef","#
            + #""prev_hash":"\#(AuditRecord.genesisHash)"}"#
        let hash = "55225fc326489aafdcf84a54eb31938ceed7598af11356e732f3c283c33d81ed"
        #expect(record.canonicalBytes() == Array(canonical.utf8))
        let line = record.sealLine()
        #expect(record.hash == hash)
        #expect(line == Array((canonical.dropLast() + #","hash":"\#(hash)"}"# + "\n").utf8))
    }

    @Test("absent optional fields are written as null, not left out")
    func absentFieldsAreNull() throws {
        var record = AuditRecord(type: .configReloaded, outcome: .success)
        let object = try decode(Array(record.sealLine().dropLast()))
        for key in ["request_id", "client_address", "subject", "route", "reason", "token_fingerprint"] {
            #expect(object[key] is NSNull, "field \(key)")
        }
    }

    @Test(
        "hostile field values stay inside one line and decode back unchanged",
        arguments: [
            "quote \" inside", "new\nline", "carriage\rreturn", "tab\there", "nul\u{0}byte", "bell\u{7}del\u{7F}",
            "back\\slash", "\u{2028}line separator", "} ,\"hash\":\"forged\"", "é🙂",
        ])
    func hostileValuesStayOneLine(value: String) throws {
        var record = AuditRecord(type: .authzDenied, outcome: .denied, subject: value, route: value, reason: value)
        let line = record.sealLine()
        #expect(line.filter { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }.count == 1)
        let object = try decode(Array(line.dropLast()))
        #expect(object["subject"] as? String == value)
        #expect(object["hash"] as? String == record.hash)
    }

    @Test("an over-long field is cut to the limit on a character boundary")
    func longFieldIsCut() throws {
        var record = AuditRecord(type: .authFailure, outcome: .failure, reason: String(repeating: "é", count: 5000))
        let object = try decode(Array(record.sealLine().dropLast()))
        let reason = try #require(object["reason"] as? String)
        #expect(reason.utf8.count == AuditRecord.maxFieldBytes)
        #expect(reason.allSatisfy { $0 == "é" })
    }

    @Test("the fingerprint is the first 16 hex digits of SHA-256 and never the credential")
    func fingerprint() {
        // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
        #expect(AuditRecord.fingerprint(of: "abc") == "ba7816bf8f01cfea")
        let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZWNyZXQifQ.c2lnbmF0dXJl"
        let print = AuditRecord.fingerprint(of: token)
        #expect(print.count == 16 && !token.contains(print))
        var record = AuditRecord(type: .authFailure, outcome: .failure, tokenFingerprint: print)
        let line = String(decoding: record.sealLine(), as: UTF8.self)
        #expect(!line.contains(token) && !line.contains("eyJ"))
    }

    @Test("a tail whose hash does not match its content is rejected")
    func tamperedTailRejected() throws {
        var record = AuditRecord(type: .banAdded, outcome: .success, subject: "203.0.113.9")
        let line = Array(record.sealLine().dropLast())
        let tampered = Array(String(decoding: line, as: UTF8.self).replacingOccurrences(of: ".9", with: ".8").utf8)
        #expect(throws: AuditLogError.self) { try AuditChainTail.parse(tampered) }
        #expect(throws: AuditLogError.self) { try AuditChainTail.parse(Array("{\"sequence\":1}".utf8)) }
    }
}
