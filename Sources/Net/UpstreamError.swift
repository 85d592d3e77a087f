/// Why an upstream exchange failed, with the status the gateway answers.
public struct UpstreamError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure; stable, bounded, fit for a metric label via `label`.
    public enum Kind: String, Sendable, Equatable {
        /// Nothing listens at the address (ECONNREFUSED). 502.
        case connectRefused
        /// The connection could not be made for another reason, or the address did not resolve. 502.
        case connectFailed
        /// The exchange did not finish within its timeout. 504.
        case timeout
        /// The upstream's response broke the framing rules. 502.
        case protocolError
        /// The upstream closed before a whole response arrived. 502.
        case closedEarly
        /// The response body passed the client's limit (default 64 MiB). 502.
        case responseTooLarge
    }

    public let kind: Kind
    /// The failing call or rule, for logs; never request or response content.
    public let detail: String

    public init(_ kind: Kind, detail: String = "") {
        self.kind = kind
        self.detail = detail
    }

    /// The status for the client: 504 for a timeout, 502 otherwise.
    public var status: Int { kind == .timeout ? 504 : 502 }

    /// A bounded short form for metric labels.
    public var label: String { kind.rawValue }

    public var description: String {
        detail.isEmpty ? "upstream \(kind.rawValue)" : "upstream \(kind.rawValue): \(detail)"
    }

    public static func == (a: UpstreamError, b: UpstreamError) -> Bool { a.kind == b.kind }
}
