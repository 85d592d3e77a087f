import Crypto
import Foundation
import Testing

@testable import Audit

/// The chain key of the golden line, also used outside Swift (Python's hmac) to compute its hash.
let goldenChainKey = HMACKey(secret: Array("golden-audit-chain-key-32-bytes!".utf8))

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
        let line = record.sealLine(key: goldenChainKey)
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
        let sealed = try #require(SealedLine(Array(line.dropLast())))
        #expect(sealed.sequence == 42 && sealed.hash == record.hash && sealed.verifies(with: goldenChainKey))
    }

    @Test("the line is byte for byte the documented format, and its hash is HMAC-SHA256 of the canonical bytes")
    func goldenLine() {
        var record = AuditRecord(
            type: .authFailure, outcome: .failure, requestID: "req-1", clientAddress: "203.0.113.7",
            subject: "consumer \"9\"", route: "/api/v1/events", tokenFingerprint: "0123456789abcdef")
        record.sequence = 42
        record.timeMicroseconds = 1_767_225_600_123_456
        // Canonical bytes and hash computed outside Swift (Python's json format and hmac with hashlib.sha256).
        let canonical =
            #"{"time":"2026-01-01T00:00:00.123456Z","sequence":42,"type":"auth.failure","outcome":"failure","#
            + #""request_id":"req-1","client_address":"203.0.113.7","subject":"consumer \"9\"","#
            + #""route":"/api/v1/events","reason":null,"token_fingerprint":"0123456789abcdef","#
            + #""prev_hash":"\#(AuditRecord.genesisHash)"}"#
        let hash = "3ebddb38640e44601ff2e543ed3426cf72418e18de612a26b34fbb8edf7783e3"
        #expect(record.canonicalBytes() == Array(canonical.utf8))
        let line = record.sealLine(key: goldenChainKey)
        #expect(record.hash == hash)
        #expect(line == Array((canonical.dropLast() + #","hash":"\#(hash)"}"# + "\n").utf8))
        // Under another key the same record seals to another hash, and the golden line no longer verifies.
        let otherKey = HMACKey(secret: Array("another-audit-chain-key-32bytes!".utf8))
        var copy = record
        _ = copy.sealLine(key: otherKey)
        #expect(copy.hash != hash)
        #expect(SealedLine(Array(line.dropLast()))?.verifies(with: otherKey) == false)
    }

    @Test("absent optional fields are written as null, not left out")
    func absentFieldsAreNull() throws {
        var record = AuditRecord(type: .configReloaded, outcome: .success)
        let object = try decode(Array(record.sealLine(key: goldenChainKey).dropLast()))
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
        let line = record.sealLine(key: goldenChainKey)
        #expect(line.filter { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }.count == 1)
        let object = try decode(Array(line.dropLast()))
        #expect(object["subject"] as? String == value)
        #expect(object["hash"] as? String == record.hash)
    }

    @Test("an over-long field is cut to the limit on a character boundary")
    func longFieldIsCut() throws {
        var record = AuditRecord(type: .authFailure, outcome: .failure, reason: String(repeating: "é", count: 5000))
        let object = try decode(Array(record.sealLine(key: goldenChainKey).dropLast()))
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
        let line = String(decoding: record.sealLine(key: goldenChainKey), as: UTF8.self)
        #expect(!line.contains(token) && !line.contains("eyJ"))
    }

    @Test("a tail whose hash does not match its content is rejected")
    func tamperedTailRejected() throws {
        var record = AuditRecord(type: .banAdded, outcome: .success, subject: "203.0.113.9")
        let line = Array(record.sealLine(key: goldenChainKey).dropLast())
        let tampered = Array(String(decoding: line, as: UTF8.self).replacingOccurrences(of: ".9", with: ".8").utf8)
        #expect(SealedLine(line)?.verifies(with: goldenChainKey) == true)
        #expect(SealedLine(tampered)?.verifies(with: goldenChainKey) == false)
        #expect(SealedLine(Array("{\"sequence\":1}".utf8)) == nil)
    }
}
