import Redis

/// Why a shared store (bans, revocations) could not answer; the caller decides whether to fail open or closed.
public struct SharedStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A bounded short form for metric labels, e.g. `timeout` or `capacity`.
    public let label: String
    /// One line for logs; never a key's value or a credential.
    public let description: String

    /// The in-memory store is full of live entries.
    public static let capacity = SharedStoreError(label: "capacity", description: "shared store: full")

    init(label: String, description: String) {
        self.label = label
        self.description = description
    }

    /// The Redis failure behind it.
    public init(_ error: RedisError) {
        self.init(label: error.kind.rawValue, description: error.description)
    }
}
