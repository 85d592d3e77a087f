extension EventEncryption {
    /// The store's subject-hash key, worked out from its rows inside one write transaction (the caller's).
    ///
    /// A recorded key (the `subject-hash-key` row) is unwrapped by whichever configured master key wrapped it.
    /// Without one (a store sealed by a version that did not record it, or a new store) the key is the one
    /// derived from the master key that wraps the store's live data keys, since that key made their hashes; or
    /// from the current master key when no data key is live. It is then recorded, wrapped by the current key,
    /// before any hash is used, so that a later rotation has it to re-wrap.
    /// - Parameters:
    ///   - stored: the recorded row, or nil.
    ///   - liveMasterKeyIDs: the ids that wrap the store's live data keys (asked only when nothing is recorded).
    ///   - record: writes the row: the wrapped key and the id of the master key that wrapped it.
    /// - Throws: `StoreError.wrongMasterKey` when the row or the live data keys belong to a master key that is not
    ///   configured (the start-up check refuses such a store first); `corruptRow` for a destroyed row.
    func subjectHashKey(
        stored: WrappedKey?, liveMasterKeyIDs: () throws -> Set<String>,
        record: (_ wrapped: String, _ masterKeyID: String) throws -> Void
    ) throws -> SubjectHashKey {
        if let stored {
            guard let wrapped = stored.wrapped else { throw StoreError.corruptRow }
            let secret = try unwrap(wrapped, keyID: SubjectHashKey.keyID, masterKeyID: stored.masterKeyID)
            guard secret.count == 32 else { throw StoreError.undecryptable }
            return SubjectHashKey(secret: secret)
        }
        // One master key at a time sealed such a store (earlier versions refused any other), so its live keys
        // name at most one; a previous key's hashes are the ones to keep.
        let live = try liveMasterKeyIDs()
        let origin: MasterKey
        if live.isEmpty || live == [masterKey.id] {
            origin = masterKey
        } else if let previousMasterKey, live == [previousMasterKey.id] {
            origin = previousMasterKey
        } else {
            throw StoreError.wrongMasterKey
        }
        let key = origin.derivedSubjectHashKey
        try record(masterKey.wrap(key.secret, keyID: SubjectHashKey.keyID), masterKey.id)
        return key
    }

    /// `wrapped`, wrapped by the previous master key, unwrapped and wrapped again by the current one, for the same
    /// key id.
    /// - Throws: `StoreError.undecryptable` when it does not open; `wrongMasterKey` without a previous key.
    func rewrap(_ wrapped: String, keyID: String) throws -> String {
        guard let previousMasterKey else { throw StoreError.wrongMasterKey }
        var key = try previousMasterKey.unwrap(wrapped, keyID: keyID, masterKeyID: previousMasterKey.id)
        defer {
            key.withUnsafeMutableBufferPointer { buffer in
                for index in buffer.indices { buffer[index] = 0 }
            }
        }
        return masterKey.wrap(key, keyID: keyID)
    }

    /// `rewrap(_:keyID:)`, or nil when `wrapped` does not open under the previous master key (a damaged row, or
    /// one of a third key filed under the previous key's id): rotation skips such a key and moves the rest.
    func rewrapIfOpens(_ wrapped: String, keyID: String) throws -> String? {
        guard previousMasterKey != nil else { throw StoreError.wrongMasterKey }
        do {
            return try rewrap(wrapped, keyID: keyID)
        } catch let error as StoreError where error.isEncryptionFailure {
            // `rewrap` names the previous key itself, so an encryption failure can only mean the key does not open.
            return nil
        }
    }
}
