import Auth
import Crypto
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("PasswordHasher (argon2id)")
struct PasswordHasherTests {
    /// Cheap costs for the tests that are not about the costs.
    static let fast = PasswordHasher(parameters: Argon2id.Parameters(memoryKiB: 64, iterations: 1, parallelism: 1))

    @Test("OWASP costs by default: a PHC string that verifies its password and no other")
    func owasp() {
        let hasher = PasswordHasher()
        let encoded = hasher.hash("correct horse battery staple")
        #expect(encoded.hasPrefix("$argon2id$v=19$m=19456,t=2,p=1$"))
        #expect(encoded.split(separator: "$").count == 5)
        #expect(hasher.verify("correct horse battery staple", against: encoded))
        #expect(!hasher.verify("correct horse battery stapl", against: encoded))
        #expect(!hasher.verify("", against: encoded))
        // Fresh salt each time.
        #expect(hasher.hash("correct horse battery staple") != encoded)
        #expect(!hasher.needsRehash(encoded))
        #expect(Self.fast.needsRehash(encoded))
    }

    @Test("matches the reference implementation's output for a known input (argon2 CLI, RFC 9106 encoding)")
    func knownAnswer() {
        // echo -n password | argon2 somesalt -id -t 2 -m 16 -p 1 -l 32 -e
        let reference = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
        #expect(Self.fast.verify("password", against: reference))
        #expect(!Self.fast.verify("passwore", against: reference))
    }

    @Test(
        "malformed or tampered PHC strings never verify",
        arguments: [
            "", "$argon2i$v=19$m=64,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
            "$argon2id$v=16$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
            "$argon2id$v=19$m=65536,t=2$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
            "$argon2id$v=19$m=65536,t=2,p=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
            "$argon2id$v=19$m=99999999999,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
            "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ=$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
            "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPd",
            "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8",
            "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc$",
        ])
    func malformed(encoded: String) {
        #expect(!Self.fast.verify("password", against: encoded))
    }

    @Test("verifyNothing costs about what a real verification costs, so absent users are not told apart")
    func decoyTiming() {
        let hasher = PasswordHasher()
        let encoded = hasher.hash("a password of some length")
        func seconds(_ body: () -> Void) -> Double {
            var start = timespec()
            var end = timespec()
            clock_gettime(CLOCK_MONOTONIC, &start)
            body()
            clock_gettime(CLOCK_MONOTONIC, &end)
            return Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
        }
        let real = (0..<3).map { _ in seconds { _ = hasher.verify("wrong guess", against: encoded) } }.min() ?? 0
        let decoy = (0..<3).map { _ in seconds { hasher.verifyNothing("wrong guess") } }.min() ?? 0
        #expect(real > 0.002 && decoy > real / 3 && decoy < real * 3, "real \(real) s, decoy \(decoy) s")
    }

    @Test("the password policy refuses short, default, example and name-equal passwords, with a reason")
    func policy() {
        #expect(PasswordPolicy.weakness(of: "admin", username: "admin") == "equals the user name")
        #expect(PasswordPolicy.weakness(of: "Secure_Password_Here", username: "ops") != nil)
        #expect(PasswordPolicy.weakness(of: "strong_password_here", username: "ops") != nil)
        #expect(PasswordPolicy.weakness(of: "short-pw", username: "ops") == "is shorter than 12 characters")
        #expect(PasswordPolicy.weakness(of: String(repeating: "x", count: 1025), username: "ops") != nil)
        #expect(PasswordPolicy.weakness(of: "a long enough passphrase", username: "ops") == nil)
        // The README's walk-through password, in any case: a deployment that copied it holds a known password.
        #expect(PasswordPolicy.weakness(of: "A Long Private Passphrase", username: "alice") != nil)
        #expect(PasswordPolicy.candidates(for: "alice").contains("a long private passphrase"))
        #expect(PasswordPolicy.candidates(for: "Admin").first == "Admin")
        #expect(PasswordPolicy.candidates(for: "admin").filter { $0 == "admin" }.count == 1)
    }
}

@Suite("API keys, refresh tokens and the credential hasher")
struct CredentialFormatTests {
    @Test("a generated key parses back into its id and secret; the id is its public prefix")
    func roundTrip() throws {
        let (key, id, secret) = APIKeyFormat.generate()
        let parsed = try #require(APIKeyFormat.parse(key))
        #expect(parsed.id == id && parsed.secret == secret && key.hasPrefix(id + "_"))
        #expect(APIKeyFormat.isKeyID(id) && !APIKeyFormat.isKeyID(key))
        #expect(APIKeyFormat.generate().key != key)
        let refresh = RefreshTokenFormat.generate()
        #expect(RefreshTokenFormat.isWellFormed(refresh) && !RefreshTokenFormat.isWellFormed(refresh + "A"))
    }

    @Test("anything but the exact shape is not a key")
    func malformed() {
        let (key, _, _) = APIKeyFormat.generate()
        let secret = String(key.suffix(43))
        var bad: [String] = ["", "spk_", key + "x", String(key.dropLast()), "SPK_" + String(key.dropFirst(4))]
        bad.append("spk_ABCDEF0123456789_" + secret)
        bad.append("spk_0123456789abcdef-" + secret)
        bad.append("spk_0123456789abcdef_" + String(repeating: "A", count: 42) + "B")
        for text in bad { #expect(APIKeyFormat.parse(text) == nil, "\(text)") }
    }

    @Test("the keyed hash depends on the key and compares in constant time")
    func hasher() {
        let one = CredentialHasher(key: Array(repeating: 1, count: 32))
        let two = CredentialHasher(key: Array(repeating: 2, count: 32))
        let stored = one.hash("secret-part")
        #expect(stored.count == 64 && stored != two.hash("secret-part"))
        #expect(one.matches("secret-part", stored: stored) && !two.matches("secret-part", stored: stored))
        #expect(!one.matches("secret-parT", stored: stored) && !one.matches("secret-part", stored: ""))
    }
}
