import Foundation
import PortalCore
import Testing

@testable import Audit

@Suite("AuditChainTail: torn last line")
struct AuditChainTailTests {
    private let clock = ManualClock(unixSeconds: 1_767_225_600)
    private var tornCopySuffix: String { ".torn-\(clock.unixNanoseconds() / 1000)" }

    private func temporaryPath() -> String {
        let directory = NSTemporaryDirectory() + "audit-torn-tests-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory + "/audit.log"
    }

    private func denial(_ n: Int) -> AuditRecord {
        AuditRecord(type: .authzDenied, outcome: .denied, requestID: "req-\(n)", route: "/api/v1/events")
    }

    private func append(_ bytes: [UInt8], to path: String) throws {
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(bytes))
        try handle.close()
    }

    /// Every line parses as a sealed record; returns (sequence, prev_hash, hash) of each.
    private func chain(at path: String) throws -> [(sequence: Int, previous: String, hash: String)] {
        let data = try #require(FileManager.default.contents(atPath: path))
        #expect(data.last == UInt8(ascii: "\n"))
        return try data.split(separator: UInt8(ascii: "\n")).map { line in
            #expect(SealedLine(Array(line))?.verifies(with: goldenChainKey) == true)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            return (
                try #require((object["sequence"] as? NSNumber)?.intValue),
                try #require(object["prev_hash"] as? String), try #require(object["hash"] as? String)
            )
        }
    }

    @Test(
        "a torn tail is copied aside and cut off; the chain continues from the last whole record",
        arguments: [
            Array("{\"time\":\"2026-01-01T00:".utf8), [UInt8(ascii: "{")], Array("{\"sequence\":4,\"hash\":\"ab".utf8),
            [0xFF, 0x00, 0xC3],
        ])
    func tornTailRepaired(fragment: [UInt8]) throws {
        let path = temporaryPath()
        let first = try AuditLog(path: path, clock: clock, chainKey: goldenChainKey)
        for n in 1...3 { first.record(denial(n)) }
        #expect(first.close())
        try append(fragment, to: path)

        let second = try AuditLog(path: path, clock: clock, chainKey: goldenChainKey)
        for n in 4...5 { second.record(denial(n)) }
        #expect(second.close())

        let records = try chain(at: path)
        #expect(records.map(\.sequence) == Array(1...5))
        #expect(records.first?.previous == AuditRecord.genesisHash)
        for (previous, next) in zip(records, records.dropFirst()) { #expect(next.previous == previous.hash) }
        let copyPath = path + tornCopySuffix
        #expect(FileManager.default.contents(atPath: copyPath) == Data(fragment))
        let mode = try FileManager.default.attributesOfItem(atPath: copyPath)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
    }

    @Test("a file holding only a torn line starts a new chain at the genesis hash")
    func onlyTornLine() throws {
        let path = temporaryPath()
        #expect(FileManager.default.createFile(atPath: path, contents: Data("{\"time\":".utf8)))
        let log = try AuditLog(path: path, clock: clock, chainKey: goldenChainKey)
        log.record(denial(1))
        #expect(log.close())
        let records = try chain(at: path)
        #expect(records.map(\.sequence) == [1])
        #expect(records.first?.previous == AuditRecord.genesisHash)
        #expect(FileManager.default.contents(atPath: path + tornCopySuffix) == Data("{\"time\":".utf8))
    }

    @Test("a last line longer than any record, without a newline, refuses to open and is left untouched")
    func overlongTailRefused() throws {
        let path = temporaryPath()
        let content = Data(repeating: UInt8(ascii: "x"), count: 70_000)
        #expect(FileManager.default.createFile(atPath: path, contents: content))
        #expect(throws: AuditLogError.self) { try AuditLog(path: path, clock: clock, chainKey: goldenChainKey) }
        #expect(FileManager.default.contents(atPath: path) == content)
    }

    @Test("a torn tail after a tampered last whole line still refuses to open")
    func tornAfterTampered() throws {
        let path = temporaryPath()
        let log = try AuditLog(path: path, clock: clock, chainKey: goldenChainKey)
        log.record(denial(1))
        #expect(log.close())
        let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "req-1", with: "req-2")
        try (text + "{\"ti").write(toFile: path, atomically: false, encoding: .utf8)
        #expect(throws: AuditLogError.self) { try AuditLog(path: path, clock: clock, chainKey: goldenChainKey) }
    }
}
