/// A metadata value in a log event.
///
/// Under a sensitive key (see `Logger`) every value is written as `[REDACTED]`, except `.safe`,
/// which the caller uses to say "this is not a secret" (a key fingerprint, a key id).
public enum LogValue: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByStringInterpolation
{
    /// Text.
    case string(String)
    /// An integer.
    case int(Int)
    /// A floating-point number; NaN and infinities are written as strings.
    case double(Double)
    /// A truth value.
    case bool(Bool)
    /// Text the caller vouches is not secret; never redacted.
    case safe(String)

    /// A string literal becomes `.string`.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An integer literal becomes `.int`.
    public init(integerLiteral value: Int) { self = .int(value) }
    /// A boolean literal becomes `.bool`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}
