/// An event row as a store reads it, before its payload and metadata are opened.
struct EventRow {
    var id: String
    var eventType: String
    var aggregateType: String
    var aggregateID: String
    var payload: String
    var metadata: String
    var createdAtMicroseconds: Int64
    var version: Int64
    var sequence: Int64
    /// The `format` column: see `EventFormat`.
    var format: Int64
    var keyID: String?

    /// The event as stored, with its payload and metadata still as the columns hold them.
    var stored: StoredEvent {
        StoredEvent(
            id: id, eventType: eventType, aggregateType: aggregateType, aggregateID: aggregateID,
            payloadJSON: payload, metadataJSON: metadata, createdAtMicroseconds: createdAtMicroseconds,
            version: version, sequence: sequence)
    }

    /// The events of `rows`, opened with `encryption` where sealed.
    ///
    /// Data keys come from the cache; those missing are read in one call to `fetchKeys` (by key id), so a page
    /// of events costs at most one more query, and none once the keys are cached. A key that is destroyed or
    /// gone reads as erased, never as an error.
    /// - Throws: `StoreError`: `corruptRow` for an unknown format, `noMasterKey` for a sealed row without
    ///   encryption, `undecryptable` or `wrongMasterKey` when it does not open.
    static func open(
        _ rows: [EventRow], _ encryption: EventEncryption?, fetchKeys: ([String]) throws -> [String: WrappedKey]
    ) throws -> [StoredEvent] {
        var missing: Set<String> = []
        for row in rows where row.format == EventFormat.sealedV1.rawValue {
            guard let encryption else { throw StoreError.noMasterKey }
            guard let keyID = row.keyID, isKeyID(keyID) else { throw StoreError.corruptRow }
            if encryption.cache.key(keyID) == nil { missing.insert(keyID) }
        }
        let fetched = missing.isEmpty ? [:] : try fetchKeys(missing.sorted())
        return try rows.map { row in
            switch EventFormat(rawValue: row.format) {
            case nil: throw StoreError.corruptRow
            case .plaintext: return row.stored
            case .erased: return row.stored.markedErased()
            case .sealedV1:
                guard let encryption, let keyID = row.keyID else { throw StoreError.noMasterKey }
                let key: [UInt8]
                if let cached = encryption.cache.key(keyID) {
                    key = cached
                } else if let wrapped = fetched[keyID], let text = wrapped.wrapped {
                    key = try encryption.dataKey(keyID, wrapped: text, masterKeyID: wrapped.masterKeyID)
                } else {
                    return row.stored.markedErased()
                }
                var event = row.stored
                event.payloadJSON = try EventSealing.open(
                    row.payload, eventID: row.id, column: .payload, keyID: keyID, key: key)
                event.metadataJSON = try EventSealing.open(
                    row.metadata, eventID: row.id, column: .metadata, keyID: keyID, key: key)
                return event
            }
        }
    }
}

/// Whether `text` has the shape of a data key id: 32 lower-case hex digits.
func isKeyID(_ text: String) -> Bool {
    text.utf8.count == 32 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
}

/// A data key as `subject_keys` holds it.
struct WrappedKey {
    /// Nil once destroyed by erasure.
    var wrapped: String?
    var masterKeyID: String
}

extension StoredEvent {
    /// This event as an erased one reads: payload and metadata JSON `null`.
    func markedErased() -> StoredEvent {
        var event = self
        event.payloadJSON = "null"
        event.metadataJSON = "null"
        event.erased = true
        return event
    }
}

/// What an append writes into the payload, metadata, `key_id` and `format` columns.
struct SealedColumns {
    var payload: String
    var metadata: String
    var keyID: String?
    var format: EventFormat

    /// The columns of `event` as sent, for a store without encryption.
    static func plaintext(_ event: NewEvent) -> SealedColumns {
        SealedColumns(payload: event.payloadJSON, metadata: event.metadataJSON, keyID: nil, format: .plaintext)
    }

    /// The columns of `event` (id `eventID`) sealed under the data key `keyID`.
    static func sealed(_ event: NewEvent, eventID: String, keyID: String, key: [UInt8]) -> SealedColumns {
        SealedColumns(
            payload: EventSealing.seal(event.payloadJSON, eventID: eventID, column: .payload, keyID: keyID, key: key),
            metadata: EventSealing.seal(
                event.metadataJSON, eventID: eventID, column: .metadata, keyID: keyID, key: key),
            keyID: keyID, format: .sealedV1)
    }
}
