import Backup
import Crypto
import Foundation
import Store

/// Data the store tests write and compare: events, audit records and credentials with awkward text.
enum BackupTestData {
    /// One random secret for the whole test run, so that the key of a create and of its restore agree.
    static let secret = Array(Digest.hex(SecureRandom.bytes(count: 32)).utf8)

    static func key() throws -> BackupKey { try BackupKey(secret: secret) }

    static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "backup-store-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Appends `count` events over a few aggregates; payloads hold quotes, tabs, newlines, backslashes, Unicode.
    static func appendEvents(_ store: any EventStore, count: Int, tag: String = "") throws {
        for index in 0..<count {
            _ = try store.append(
                NewEvent(
                    eventType: "story.created", aggregateType: "story", aggregateID: "story-\(index % 7)\(tag)",
                    payloadJSON: "{\"n\":\(index),\"text\":\"tab\\t nl\\n back\\\\ \\\"q\\\" é 🌍 \(tag)\"}",
                    metadataJSON: "{\"by\":\"test\"}"))
        }
    }

    /// A linked audit chain of `count` records.
    static func auditChain(count: Int) -> [StoredAuditRecord] {
        var previous = String(repeating: "0", count: 64)
        return (1...Int64(count)).map { sequence in
            let hash = Digest.hex(Digest.sha256(Array("\(sequence)\(previous)".utf8)))
            defer { previous = hash }
            return StoredAuditRecord(
                sequence: sequence, timeMicroseconds: 1_767_225_600_000_000 + sequence, type: "auth.failure",
                outcome: "failure", requestID: "req-\(sequence)", clientAddress: "127.0.0.1",
                subject: sequence % 2 == 0 ? nil : "alice", route: "/api/v1/events", reason: "bad\ttoken\n\\",
                tokenFingerprint: nil, prevHash: previous, hash: hash, line: "{\"sequence\":\(sequence)}")
        }
    }

    /// Every event of `store`, in sequence order.
    static func allEvents(_ store: any EventStore) throws -> [StoredEvent] {
        var events: [StoredEvent] = []
        var after: Int64 = 0
        while true {
            let page = try store.list(EventQuery(afterSequence: after, limit: 1000))
            events += page.events
            guard let next = page.nextAfterSequence else { return events }
            after = next
        }
    }
}
