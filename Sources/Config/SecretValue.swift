/// A secret read from configuration: a password, an HMAC key or an API key.
///
/// Printing, interpolating or dumping it shows `<redacted>`, so settings can be logged without leaking it.
/// Read the secret through `bytes` or `text` where it is used, and compare it only in constant time.
public struct SecretValue: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The secret's text, exactly as configured (after `*_FILE` newline stripping).
    public let text: String

    /// Wraps `text` as a secret.
    public init(_ text: String) {
        self.text = text
    }

    /// The secret's UTF-8 bytes.
    public var bytes: [UInt8] { Array(text.utf8) }

    /// Length of the secret in UTF-8 bytes.
    public var byteCount: Int { text.utf8.count }

    /// Always `<redacted>`.
    public var description: String { "<redacted>" }

    /// Always `<redacted>`.
    public var debugDescription: String { "<redacted>" }

    /// Shows no children, so `dump` reveals nothing.
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
