import RESP
import Redis

/// What a shared store's list is now, for a gateway's mirror: its version, and its entries when the version
/// moved since the caller's copy.
public struct SharedSnapshot: Sendable, Equatable {
    /// The store's change counter (0 when nothing was ever written, or Redis forgot it).
    public let version: Int64
    /// Each entry with a number the store chose (milliseconds left for bans, `exp` for revocations); nil when
    /// the version is the caller's, so its copy is current.
    public let entries: [(key: String, value: Int64)]?

    public static func == (lhs: SharedSnapshot, rhs: SharedSnapshot) -> Bool {
        lhs.version == rhs.version && lhs.entries?.map(\.key) == rhs.entries?.map(\.key)
            && lhs.entries?.map(\.value) == rhs.entries?.map(\.value)
    }

    /// Reads `{version}` or `{version, key, number, ...}`.
    static func parse(_ reply: RESPValue, since: Int64) -> Result<SharedSnapshot, SharedStoreError> {
        guard let items = reply.arrayValue, let version = items.first?.integerValue, items.count % 2 == 1 else {
            return .failure(SharedStoreError(RedisError(.protocolError, detail: "snapshot reply")))
        }
        guard items.count > 1 || version != since else {
            return .success(SharedSnapshot(version: version, entries: nil))
        }
        var entries: [(key: String, value: Int64)] = []
        entries.reserveCapacity(items.count / 2)
        for index in stride(from: 1, to: items.count, by: 2) {
            guard let key = items[index].stringValue, let value = items[index + 1].integerValue else { continue }
            entries.append((key, value))
        }
        return .success(SharedSnapshot(version: version, entries: entries))
    }
}
