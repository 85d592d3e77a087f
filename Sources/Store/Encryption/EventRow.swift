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
    /// gone reads as erased, never as an error. Format 1 rows open with the v1 additional data, format 3 rows
    /// with the v2 one built from the row's own columns: a row moved to another subject, re-dated, renumbered,
    /// retyped, or switched between formats 1 and 3 does not open.
    /// - Throws: `StoreError`: `corruptRow` for an unknown format, `noMasterKey` for a sealed row without
    ///   encryption, `undecryptable` or `wrongMasterKey` when it does not open.
    static func open(
        _ rows: [EventRow], _ encryption: EventEncryption?, fetchKeys: ([String]) throws -> [String: WrappedKey]
    ) throws -> [StoredEvent] {
        var missing: Set<String> = []
        for row in rows where EventFormat(rawValue: row.format)?.isSealed == true {
            guard let encryption else { throw StoreError.noMasterKey }
            guard let keyID = row.keyID, isKeyID(keyID) else { throw StoreError.corruptRow }
            if encryption.cache.key(keyID) == nil { missing.insert(keyID) }
        }
        let fetched = missing.isEmpty ? [:] : try fetchKeys(missing.sorted())
        return try rows.map { row in
            guard let format = EventFormat(rawValue: row.format) else { throw StoreError.corruptRow }
            switch format {
            case .plaintext: return row.stored
            case .erased: return row.stored.markedErased()
            case .sealedV1, .sealedV2:
                guard let encryption, let keyID = row.keyID else { throw StoreError.noMasterKey }
                let key: [UInt8]
                if let cached = encryption.cache.key(keyID) {
                    key = cached
                } else if let wrapped = fetched[keyID], let text = wrapped.wrapped {
                    key = try encryption.dataKey(keyID, wrapped: text, masterKeyID: wrapped.masterKeyID)
                } else {
                    return row.stored.markedErased()
                }
                let binding = row.binding(format, keyID: keyID)
                var event = row.stored
                event.payloadJSON = try EventSealing.open(row.payload, column: .payload, binding: binding, key: key)
                event.metadataJSON = try EventSealing.open(
                    row.metadata, column: .metadata, binding: binding, key: key)
                return event
            }
        }
    }

    /// What a sealed row of `format` is bound to, built from the row's own columns as they read now.
    private func binding(_ format: EventFormat, keyID: String) -> SealedBinding {
        guard format == .sealedV2 else { return .v1(eventID: id, keyID: keyID) }
        return .v2(
            SealedRowFields(
                eventID: id, keyID: keyID, eventType: eventType, aggregateType: aggregateType,
                aggregateID: aggregateID, version: version, createdAtMicroseconds: createdAtMicroseconds))
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

    /// The columns of `event` sealed under the data key `row.keyID`, bound to `row` (format 3). `row` must hold
    /// exactly what the insert writes and a later read returns, or the row will not open.
    static func sealed(_ event: NewEvent, row: SealedRowFields, key: [UInt8]) -> SealedColumns {
        let binding = SealedBinding.v2(row)
        return SealedColumns(
            payload: EventSealing.seal(event.payloadJSON, column: .payload, binding: binding, key: key),
            metadata: EventSealing.seal(event.metadataJSON, column: .metadata, binding: binding, key: key),
            keyID: row.keyID, format: .sealedV2)
    }
}

extension SealedRowFields {
    /// The fields of `event` appended as `eventID`, sealed under `keyID`, with the version and time it gets.
    init(_ event: NewEvent, eventID: String, keyID: String, version: Int64, createdAtMicroseconds: Int64) {
        self.init(
            eventID: eventID, keyID: keyID, eventType: event.eventType, aggregateType: event.aggregateType,
            aggregateID: event.aggregateID, version: version, createdAtMicroseconds: createdAtMicroseconds)
    }
}
