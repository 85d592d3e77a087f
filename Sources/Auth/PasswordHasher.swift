import Crypto
import PortalCore

/// Hashes and verifies passwords with argon2id, stored as PHC strings:
/// `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>` (standard base64 without padding, 16-byte salt, 32-byte hash).
///
/// Verification recomputes the hash with the parameters and salt the string names and compares in constant
/// time. Both directions are slow on purpose (tens of milliseconds, 19 MiB): call them off the event loops,
/// and bound how many run at once.
public struct PasswordHasher: Sendable {
    /// The costs new hashes are made with; default OWASP's minimum for argon2id.
    public let parameters: Argon2id.Parameters

    /// - Parameter parameters: default `Argon2id.Parameters.owasp`.
    public init(parameters: Argon2id.Parameters = .owasp) {
        precondition(parameters.isAcceptable, "argon2id parameters out of range")
        self.parameters = parameters
    }

    /// The PHC string of `password` with a fresh random salt.
    public func hash(_ password: String) -> String {
        let salt = SecureRandom.bytes(count: 16)
        // Parameters and salt were checked, so only a library failure (out of memory) can land here.
        guard let digest = try? Argon2id.hash(password: Array(password.utf8), salt: salt, parameters: parameters)
        else { preconditionFailure("argon2id failed on checked parameters") }
        return PHCString(parameters: parameters, salt: salt, hash: digest).encoded
    }

    /// Whether `password` matches `encoded`; false for anything that is not a well-formed argon2id PHC string.
    public func verify(_ password: String, against encoded: String) -> Bool {
        guard let phc = PHCString(parsing: encoded),
            let digest = try? Argon2id.hash(
                password: Array(password.utf8), salt: phc.salt, parameters: phc.parameters, length: phc.hash.count)
        else { return false }
        return ConstantTime.equals(digest, phc.hash)
    }

    /// Spends the time of one verification without a stored hash, so that "no such user" answers as slowly as
    /// "wrong password" and timing does not tell which names exist.
    public func verifyNothing(_ password: String) {
        _ = verify(password, against: Self.decoy)
    }

    /// Whether `encoded` was made with other costs than `parameters` (and should be re-hashed at next login).
    public func needsRehash(_ encoded: String) -> Bool {
        PHCString(parsing: encoded)?.parameters != parameters
    }

    /// A fixed, valid hash of no real password, for `verifyNothing`.
    private static let decoy = PHCString(
        parameters: .owasp, salt: Array("decoy-salt-16by!".utf8), hash: [UInt8](repeating: 0x5A, count: 32)
    ).encoded
}

/// The PHC string format for argon2id, as the reference implementation writes it.
struct PHCString: Equatable {
    var parameters: Argon2id.Parameters
    var salt: [UInt8]
    var hash: [UInt8]

    init(parameters: Argon2id.Parameters, salt: [UInt8], hash: [UInt8]) {
        self.parameters = parameters
        self.salt = salt
        self.hash = hash
    }

    /// `$argon2id$v=19$m=…,t=…,p=…$salt$hash`.
    var encoded: String {
        "$argon2id$v=19$m=\(parameters.memoryKiB),t=\(parameters.iterations),p=\(parameters.parallelism)$"
            + Self.standardBase64(salt) + "$" + Self.standardBase64(hash)
    }

    /// Parses a string in exactly that form; salt 8 to 64 bytes, hash 16 to 64 bytes, acceptable costs.
    init?(parsing text: String) {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0].isEmpty, parts[1] == "argon2id", parts[2] == "v=19" else { return nil }
        var values: [Substring: UInt32] = [:]
        for field in parts[3].split(separator: ",", omittingEmptySubsequences: false) {
            let pair = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2, (1...10).contains(pair[1].utf8.count),
                pair[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = UInt32(pair[1]),
                values.updateValue(value, forKey: pair[0]) == nil
            else { return nil }
        }
        guard values.count == 3, let m = values["m"], let t = values["t"], let p = values["p"] else { return nil }
        let parameters = Argon2id.Parameters(memoryKiB: m, iterations: t, parallelism: p)
        guard parameters.isAcceptable, let salt = Self.decodeStandardBase64(parts[4]),
            let hash = Self.decodeStandardBase64(parts[5]), (8...64).contains(salt.count),
            (16...64).contains(hash.count)
        else { return nil }
        self.init(parameters: parameters, salt: salt, hash: hash)
    }

    /// Standard base64 without padding: base64url with `+` and `/` for `-` and `_`.
    static func standardBase64(_ bytes: [UInt8]) -> String {
        String(Base64URL.encode(bytes).map { $0 == "-" ? "+" : ($0 == "_" ? "/" : $0) })
    }

    static func decodeStandardBase64(_ text: Substring) -> [UInt8]? {
        guard !text.contains("-"), !text.contains("_") else { return nil }
        return Base64URL.decode(String(text.map { $0 == "+" ? "-" : ($0 == "/" ? "_" : $0) }))
    }
}
