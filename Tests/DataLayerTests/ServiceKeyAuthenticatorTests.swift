import Testing

@testable import DataLayer

@Suite("ServiceKeyAuthenticator")
struct ServiceKeyAuthenticatorTests {
    @Test(
        "only configured keys are accepted",
        arguments: [
            ("key-one-0123456789", true),
            ("key-two-abcdefghij", true),
            ("key-one-012345678", false),
            ("key-one-01234567890", false),
            ("KEY-ONE-0123456789", false),
            ("", false),
            (" key-one-0123456789", false),
        ])
    func acceptsOnlyConfigured(presented: String, expected: Bool) {
        let authenticator = ServiceKeyAuthenticator(keys: ["key-one-0123456789", "key-two-abcdefghij", ""])
        #expect(authenticator.keyCount == 2)
        #expect(authenticator.isValid(presented) == expected)
    }

    @Test("with no keys configured, every request is refused")
    func failsClosed() {
        let authenticator = ServiceKeyAuthenticator(keys: [])
        #expect(!authenticator.isValid("anything"))
        #expect(!authenticator.isValid(""))
        #expect(!authenticator.isValid(nil))
    }
}
