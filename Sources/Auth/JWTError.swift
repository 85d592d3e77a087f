/// Why a token was refused, or a key could not be configured.
///
/// `reason` is one of a small fixed set of tokens, fit for metric labels and audit records.
/// Neither `reason` nor `description` ever contains the token, a claim value or key material.
public struct JWTError: Error, Sendable, Equatable, CustomStringConvertible {
    enum Code: String, Sendable {
        case tooLarge = "too_large"
        case malformed
        case algorithmNotAllowed = "alg_not_allowed"
        case forbiddenHeader = "forbidden_header"
        case unknownKey = "unknown_key"
        case badSignature = "bad_signature"
        case missingClaim = "missing_claim"
        case invalidClaim = "invalid_claim"
        case expired
        case notYetValid = "not_yet_valid"
        case badIssuer = "bad_issuer"
        case badAudience = "bad_audience"
        case invalidKey = "invalid_key"
    }

    let code: Code
    /// A constant detail from this module (e.g. a claim or header name), never from the token.
    let detail: StaticString

    init(_ code: Code, _ detail: StaticString = "") {
        self.code = code
        self.detail = detail
    }

    /// A short fixed token: `too_large`, `malformed`, `alg_not_allowed`, `forbidden_header`, `unknown_key`,
    /// `bad_signature`, `missing_claim`, `invalid_claim`, `expired`, `not_yet_valid`, `bad_issuer`,
    /// `bad_audience` or `invalid_key`.
    public var reason: String { code.rawValue }

    /// Whether the token named a `kid` no configured key has: fetching the key set again may help.
    public var isUnknownKey: Bool { code == .unknownKey }

    /// Whether the token was genuine but outside its lifetime (`expired`, `not_yet_valid`): a client's stale
    /// token, not a guess, so brute-force protection does not count it.
    public var isOutsideLifetime: Bool { code == .expired || code == .notYetValid }

    public var description: String {
        detail.utf8CodeUnitCount == 0 ? "JWT refused: \(code.rawValue)" : "JWT refused: \(code.rawValue) (\(detail))"
    }

    public static func == (lhs: JWTError, rhs: JWTError) -> Bool { lhs.code == rhs.code }
}
