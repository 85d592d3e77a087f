/// Where an `AuditShipper` sends records: the data layer's audit table, in production over HTTP.
///
/// Implementations block (they run on the shipper's own thread) and must bound every call with a timeout.
public protocol AuditBatchTransport: Sendable {
    /// The last sequence the store holds for `source` (0 when none).
    func head(source: String) throws(AuditShipError) -> UInt64

    /// Sends consecutive sealed lines (without newlines) of `source`; returns the store's last sequence for
    /// `source` afterwards. Sending lines the store already holds, identical, must insert nothing.
    func send(source: String, lines: [[UInt8]]) throws(AuditShipError) -> UInt64
}

/// Why shipping audit records failed; safe to log (no record contents).
public struct AuditShipError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// The store could not be reached, timed out or answered 5xx: retry with backoff.
        case unavailable
        /// The store is missing records before the batch: ask for its head and resend from there.
        case gap
        /// The batch contradicts the store's chain for this source (another file under the same instance id).
        case conflict
        /// The store refused the batch for another reason (a 4xx): a bug or a misconfiguration.
        case rejected
        /// The audit file does not hold the records the store needs next.
        case file
    }

    public let kind: Kind
    /// A fixed detail (an HTTP status, an error code), never record contents.
    public let detail: String

    /// An error of `kind` with a fixed `detail`.
    public init(_ kind: Kind, detail: String = "") {
        self.kind = kind
        self.detail = detail
    }

    /// A bounded short form for metric labels: the kind's name.
    public var metricLabel: String { kind.rawValue }

    public var description: String { detail.isEmpty ? "AuditShipError(\(kind))" : "AuditShipError(\(kind), \(detail))" }
}
