import Dispatch
import Foundation
import Synchronization
import Testing

@testable import Store

/// The master key's derivations, the data-key cache, and erasure against other processes' caches and appends.
@Suite("Subject keys")
struct SubjectKeyTests {
    @Test("the master key derives a stable id and subject hash; another secret gives others; short ones are refused")
    func masterKey() throws {
        let secret = Array("one-master-key-of-at-least-32-bytes!".utf8)
        let a = try #require(MasterKey(secret: secret)), b = try #require(MasterKey(secret: secret))
        let other = try #require(MasterKey(secret: secret + [0x21]))
        #expect(a.id == b.id && a.id.count == 16 && a.id != other.id)
        #expect(a.subjectHash("alice") == b.subjectHash("alice") && a.subjectHash("alice").count == 64)
        #expect(a.subjectHash("alice") != other.subjectHash("alice") && a.subjectHash("alice") != a.subjectHash("bob"))
        #expect(MasterKey(secret: Array(secret.prefix(31))) == nil)
        // A wrapped key opens only under its own key id and master key.
        let wrapped = a.wrap(Array(repeating: 7, count: 32), keyID: "k1")
        #expect(try b.unwrap(wrapped, keyID: "k1", masterKeyID: a.id) == Array(repeating: 7, count: 32))
        #expect(throws: StoreError.undecryptable) { try a.unwrap(wrapped, keyID: "k2", masterKeyID: a.id) }
        #expect(throws: StoreError.wrongMasterKey) { try other.unwrap(wrapped, keyID: "k1", masterKeyID: a.id) }
    }

    @Test("the data-key cache stays within its bound and forgets destroyed keys")
    func cacheBound() {
        let cache = DataKeyCache(capacity: 3)
        for index in 0..<10 { cache.insert([UInt8(index)], for: "k\(index)") }
        #expect(cache.count == 3)
        #expect(cache.key("k9") == [9])
        cache.destroy(["k9", "absent"])
        #expect(cache.key("k9") == nil && cache.count == 2)
    }

    @Test(
        "an erasure by another process: its cached key is not reused, old events read erased, new ones get a new key",
        arguments: StoreKind.allCases)
    func erasureAcrossProcesses(kind: StoreKind) throws {
        let fixture = try StoreFixture(kind, encryption: try EncryptionAtRestTests.encryption())
        let other = try fixture.reopen(encryption: try EncryptionAtRestTests.encryption())
        let old = try fixture.store.append(
            NewEvent(eventType: "t", aggregateType: "p", aggregateID: "alice", payloadJSON: "{\"a\":1}"))
        #expect(try other.eraseSubject("alice", actor: "elsewhere").erasedEvents == 1)
        // This store still caches alice's destroyed key; the row says erased, and the next append finds no live key.
        #expect(try fixture.store.event(id: old.id)?.erased == true)
        let new = try fixture.store.append(
            NewEvent(eventType: "t", aggregateType: "p", aggregateID: "alice", payloadJSON: "{\"a\":2}"))
        #expect(try other.event(id: new.id) == new)
        let raw = RawRows(fixture)
        #expect(try raw.rows("SELECT count(*) FROM \(raw.keys) WHERE wrapped_key IS NULL") == ["1"])
        #expect(
            try raw.rows("SELECT count(*) FROM \(raw.keys) WHERE wrapped_key IS NOT NULL AND \(raw.dataKeysOnly)")
                == ["1"])
    }

    @Test(
        "appends racing an erasure: every event of the subject reads back, erased or whole, never an error",
        arguments: StoreKind.allCases)
    func appendsRacingErasure(kind: StoreKind) throws {
        let fixture = try StoreFixture(kind, encryption: try EncryptionAtRestTests.encryption())
        let store = fixture.store
        let ids = Mutex<[String]>([])
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for index in 0..<15 {
                do {
                    if worker == 0 && index % 5 == 4 {
                        _ = try store.eraseSubject("alice", actor: "racer")
                    } else {
                        let stored = try store.append(
                            NewEvent(
                                eventType: "t", aggregateType: "p", aggregateID: "alice",
                                payloadJSON: "{\"w\":\(worker),\"i\":\(index)}"))
                        ids.withLock { $0.append(stored.id) }
                    }
                } catch {
                    failures.add(1, ordering: .relaxed)
                }
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
        let all = ids.withLock { $0 }
        #expect(all.count == 57)
        for id in all {
            let event = try #require(try store.event(id: id))
            #expect(event.erased || event.payloadJSON.hasPrefix("{\"w\":"))
            #expect(event.erased == event.aggregateID.hasPrefix("erased:"))
        }
        let live = try store.list(EventQuery(aggregateID: "alice", limit: 1000)).events
        #expect(live.allSatisfy { !$0.erased })
    }
}
