import Crypto
import Testing

@testable import Store

/// The additional data that sealed event values are bound to: its exact bytes, and that no two rows share it.
@Suite("Sealed binding")
struct SealedBindingTests {
    private static func row(
        eventID: String = "0b2f6c1e-6d8a-4c55-9a57-2e0d3f4b5a69", keyID: String = "k", eventType: String = "t",
        aggregateType: String = "a", aggregateID: String = "alice", version: Int64 = 1,
        createdAtMicroseconds: Int64 = 1_767_225_600_000_000
    ) -> SealedRowFields {
        SealedRowFields(
            eventID: eventID, keyID: keyID, eventType: eventType, aggregateType: aggregateType,
            aggregateID: aggregateID, version: version, createdAtMicroseconds: createdAtMicroseconds)
    }

    @Test("v1 is byte for byte what earlier versions wrote; v2 is the label and eight length-prefixed fields")
    func exactBytes() {
        let v1 = SealedBinding.v1(eventID: "ABC", keyID: "0123").additionalData(.metadata)
        #expect(v1 == Array("story-portal event v1\u{0}abc\u{0}metadata\u{0}0123".utf8))
        // Computed outside Swift (Python's struct.pack(">Q", len) before each UTF-8 field).
        let v2 = SealedBinding.v2(
            Self.row(
                eventID: "AB", eventType: "t", aggregateType: "", aggregateID: "a\u{0}b", version: 7,
                createdAtMicroseconds: -5)
        ).additionalData(.payload)
        #expect(
            Digest.hex(v2)
                == "73746f72792d706f7274616c206576656e742076320000000000000002616200000000000000077061796c6f6164"
                + "00000000000000016b000000000000000174000000000000000000000000000000036100620000000000000001"
                + "3700000000000000022d35")
    }

    @Test("rows whose fields would join to the same text with separators still get different additional data")
    func injective() {
        let pairs: [(SealedRowFields, SealedRowFields)] = [
            // A NUL inside a field (SQLite keeps it in text) moved across the boundary.
            (
                Self.row(aggregateType: "a\u{0}b", aggregateID: "c"),
                Self.row(aggregateType: "a", aggregateID: "b\u{0}c")
            ),
            (Self.row(eventType: "x", aggregateType: ""), Self.row(eventType: "", aggregateType: "x")),
            // Digits moved from the version to the time.
            (Self.row(version: 12, createdAtMicroseconds: 3), Self.row(version: 1, createdAtMicroseconds: 23)),
            (Self.row(createdAtMicroseconds: 1), Self.row(createdAtMicroseconds: -1)),
            (Self.row(keyID: "k1"), Self.row(keyID: "k2")),
        ]
        for (a, b) in pairs {
            #expect(SealedBinding.v2(a).additionalData(.payload) != SealedBinding.v2(b).additionalData(.payload))
        }
        let row = Self.row()
        #expect(SealedBinding.v2(row).additionalData(.payload) != SealedBinding.v2(row).additionalData(.metadata))
        #expect(
            SealedBinding.v2(row).additionalData(.payload)
                != SealedBinding.v1(eventID: row.eventID, keyID: row.keyID).additionalData(.payload))
    }

    @Test("a value sealed under v2 opens with the same binding only; not as v1, not with one field changed")
    func sealAndOpen() throws {
        let key = SecureRandom.bytes(count: 32)
        let row = Self.row()
        let sealed = EventSealing.seal("{\"a\":1}", column: .payload, binding: .v2(row), key: key)
        #expect(try EventSealing.open(sealed, column: .payload, binding: .v2(row), key: key) == "{\"a\":1}")
        var moved = row
        moved.aggregateID = "bob"
        for binding in [SealedBinding.v2(moved), .v1(eventID: row.eventID, keyID: row.keyID)] {
            #expect(throws: StoreError.undecryptable) {
                try EventSealing.open(sealed, column: .payload, binding: binding, key: key)
            }
        }
        #expect(throws: StoreError.undecryptable) {
            try EventSealing.open(sealed, column: .metadata, binding: .v2(row), key: key)
        }
    }
}
