import Synchronization

/// Unwrapped data keys by key id, so that reading and appending a subject's events does not unwrap its key each
/// time. Bounded: past `capacity` entries an arbitrary one is dropped (and zeroed).
///
/// Erasure zeroes and drops the subject's keys. Zeroing is best effort: a key copied out by a request in flight
/// lives in that request's memory until it ends.
final class DataKeyCache: Sendable {
    let capacity: Int
    private let keys: Mutex<[String: [UInt8]]>

    /// - Precondition: `capacity` is at least 1.
    init(capacity: Int) {
        precondition(capacity >= 1, "a data key cache holds at least one key")
        self.capacity = capacity
        keys = Mutex([:])
    }

    func key(_ keyID: String) -> [UInt8]? {
        keys.withLock { $0[keyID] }
    }

    func insert(_ key: [UInt8], for keyID: String) {
        keys.withLock { keys in
            if keys[keyID] == nil, keys.count >= capacity, let victim = keys.keys.first {
                Self.zeroAndRemove(victim, from: &keys)
            }
            keys[keyID] = key
        }
    }

    /// Zeroes and forgets the keys named.
    func destroy(_ keyIDs: [String]) {
        keys.withLock { keys in
            for keyID in keyIDs { Self.zeroAndRemove(keyID, from: &keys) }
        }
    }

    var count: Int { keys.withLock { $0.count } }

    private static func zeroAndRemove(_ keyID: String, from keys: inout [String: [UInt8]]) {
        guard var key = keys.removeValue(forKey: keyID) else { return }
        // Uniquely referenced now unless a request holds a copy: then only this copy is zeroed.
        key.withUnsafeMutableBufferPointer { buffer in
            for index in buffer.indices { buffer[index] = 0 }
        }
    }
}
