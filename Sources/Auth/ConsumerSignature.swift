import Crypto
import PortalCore
import Synchronization

/// The gateway's word to an upstream about who called: an HMAC-SHA256, under a key the two share, over the
/// forwarded identity and the request it belongs to.
///
/// Headers: `X-Consumer-Timestamp` (Unix seconds), `X-Consumer-Nonce` (fresh for every request the gateway
/// forwards) and `X-Consumer-Signature: v2=<base64url HMAC>` over the lines `v2`, timestamp, nonce,
/// `X-Request-ID`, method, request-target (as the upstream receives it), `X-Consumer-ID` and `X-Consumer-Scopes`
/// (empty for anonymous calls on public routes), joined by `\n`. Binding the method and target keeps a captured
/// identity from being reused on another request; the timestamp bounds how long a captured request can be
/// replayed, and `ConsumerSignatureVerifier` refuses a nonce it has seen. The nonce, not the client-chosen request
/// id, makes each request's signature unique: two identical requests in one second are two requests.
public struct ConsumerSignature: Sendable {
    public static let timestampHeader = "X-Consumer-Timestamp"
    public static let nonceHeader = "X-Consumer-Nonce"
    public static let signatureHeader = "X-Consumer-Signature"

    /// The fields a signature covers; none may hold a line break (header values cannot).
    public struct Fields: Sendable, Equatable {
        public var timestamp: Int64
        public var nonce: String
        public var requestID: String
        public var method: String
        public var target: String
        public var consumerID: String
        public var scopes: String

        public init(
            timestamp: Int64, nonce: String, requestID: String, method: String, target: String, consumerID: String,
            scopes: String
        ) {
            self.timestamp = timestamp
            self.nonce = nonce
            self.requestID = requestID
            self.method = method
            self.target = target
            self.consumerID = consumerID
            self.scopes = scopes
        }

        var message: [UInt8] {
            let lines = ["v2", String(timestamp), nonce, requestID, method, target, consumerID, scopes]
            return Array(lines.joined(separator: "\n").utf8)
        }
    }

    private let key: HMACKey

    /// - Parameter key: at least 32 bytes shared with the upstream.
    public init(key: [UInt8]) {
        precondition(key.count >= 32, "an identity key needs at least 32 bytes")
        self.key = HMACKey(secret: key)
    }

    /// The `X-Consumer-Signature` value for `fields`.
    public func sign(_ fields: Fields) -> String {
        "v2=" + Base64URL.encode(key.authenticationCode(for: fields.message))
    }

    /// Whether `signature` signs `fields` (compared in constant time).
    public func isValid(_ signature: String, for fields: Fields) -> Bool {
        guard signature.hasPrefix("v2="), let mac = Base64URL.decode(signature.dropFirst(3)) else { return false }
        return key.isValidAuthenticationCode(mac, for: fields.message)
    }
}

/// The upstream's side: checks signature, freshness (`maxSkewSeconds`, default 30) and that the nonce was not
/// seen before within that window.
public final class ConsumerSignatureVerifier: Sendable {
    private let signature: ConsumerSignature
    private let maxSkewSeconds: Int64
    private let clock: any PortalClock
    private let seen = Mutex<(table: [String: Int64], prunedAt: Int64)>(([:], 0))

    /// - Parameters:
    ///   - key: the key shared with the gateway.
    ///   - maxSkewSeconds: how far the timestamp may be from this clock; default 30.
    ///   - clock: the wall clock.
    public init(key: [UInt8], maxSkewSeconds: Int64 = 30, clock: any PortalClock = SystemClock()) {
        signature = ConsumerSignature(key: key)
        self.maxSkewSeconds = maxSkewSeconds
        self.clock = clock
    }

    /// Why a request's identity was refused.
    public enum Refusal: String, Sendable {
        case missing, malformed, stale, forged, replayed
    }

    /// nil when `signatureValue` signs `fields`, is fresh and new; else why not.
    public func check(_ signatureValue: String?, _ fields: Fields?) -> Refusal? {
        guard let signatureValue, let fields else { return .missing }
        guard (16...64).contains(fields.nonce.utf8.count) else { return .malformed }
        let now = clock.unixSeconds()
        guard abs(now - fields.timestamp) <= maxSkewSeconds else { return .stale }
        guard signature.isValid(signatureValue, for: fields) else { return .forged }
        let window = maxSkewSeconds
        return seen.withLock { seen -> Refusal? in
            // Entries past the window can no longer be replayed (they would be stale): swept once a second.
            if seen.prunedAt != now {
                seen.table = seen.table.filter { abs(now - $0.value) <= window }
                seen.prunedAt = now
            }
            guard seen.table.updateValue(fields.timestamp, forKey: fields.nonce) == nil else { return .replayed }
            return nil
        }
    }

    public typealias Fields = ConsumerSignature.Fields
}
