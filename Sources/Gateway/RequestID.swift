import Auth
import Crypto
import Synchronization

/// Makes request ids and judges client-sent ones.
///
/// An id is a random per-process prefix and a counter, 32 hex digits: unique without a syscall per request.
public final class RequestIDGenerator: Sendable {
    private let prefix: [UInt8]
    private let counter = Atomic<UInt64>(0)
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    public init() {
        prefix = Array(Digest.hex(SecureRandom.bytes(count: 8)).utf8)
    }

    /// A fresh id.
    public func next() -> String {
        let n = counter.add(1, ordering: .relaxed).newValue
        var out = prefix
        out.reserveCapacity(32)
        for shift in stride(from: 60, through: 0, by: -4) {
            out.append(Self.digits[Int((n >> UInt64(shift)) & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether a client-sent id may be kept: one of `ClientRequestID`'s shapes, none big enough for a secret.
    public static func isAcceptable(_ id: String) -> Bool { ClientRequestID.isSafe(id) }
}
