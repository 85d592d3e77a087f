/// What makes a password too weak for an account: shorter than 12 characters, longer than 1024 bytes, equal to
/// the user name, or one of the default and example passwords that guides and templates print.
///
/// In development a weak password is accepted with a warning and remembered as weak; with `PORTAL_ENV=production`
/// it is refused, and the product will not start while an enabled account has one.
public enum PasswordPolicy {
    /// The least length in characters.
    public static let minimumCharacters = 12
    /// The most bytes hashed; longer input is refused rather than silently cut.
    public static let maximumBytes = 1024

    /// Defaults and the example values of the security guide, common templates and this product's README,
    /// lower-cased.
    public static let knownDefaults: [String] = [
        "admin", "password", "changeme", "secret", "root", "default", "letmein", "123456", "12345678",
        "secure_password", "secure_password_here", "strong_password_here", "secure_secret", "password123",
        readmeExample,
    ]

    /// The password the README's walk-through types; copied into a deployment, it is a known password.
    public static let readmeExample = "a long private passphrase"

    /// Why `password` is weak for `username`, or nil when it is acceptable.
    public static func weakness(of password: String, username: String) -> String? {
        if password.utf8.count > maximumBytes { return "is longer than \(maximumBytes) bytes" }
        if password.lowercased() == username.lowercased() { return "equals the user name" }
        if knownDefaults.contains(password.lowercased()) { return "is a default or example password" }
        if password.count < minimumCharacters { return "is shorter than \(minimumCharacters) characters" }
        return nil
    }

    /// What a production start-up check tries against each enabled account: its own name, the classic defaults
    /// and the security guide's example values (each try is one argon2id verification, tens of milliseconds).
    public static func candidates(for username: String) -> [String] {
        let defaults = [
            "admin", "password", "changeme", "secure_password", "secure_password_here", "strong_password_here",
            readmeExample,
        ]
        return [username] + defaults.filter { $0 != username.lowercased() }
    }
}
