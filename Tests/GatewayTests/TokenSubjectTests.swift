import Crypto
import PortalCore
import Testing

/// A bearer token must name its caller: one without `sub`, or with an empty one, is refused.
@Suite("Tokens without a subject")
struct TokenSubjectTests {
    /// An HS256 token under the harness secret with `payload` as given.
    static func token(_ harness: GatewayHarness, payload: String) -> String {
        let header = #"{"alg":"HS256","typ":"JWT"}"#
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
        let mac = HMAC.authenticationCode(for: Array(input.utf8), key: GatewayHarness.secret, using: .sha256)
        return input + "." + Base64URL.encode(mac)
    }

    @Test("no sub, an empty sub, a sub of spaces: 401 E9432; a sub: 200")
    func missingSubject() throws {
        let harness = try GatewayHarness()
        defer { harness.shutdown() }
        let now = harness.clock.unixSeconds()
        let rest = #""aud":"\#(GatewayHarness.audience)","scope":"echo:read","iat":\#(now - 10),"exp":\#(now + 600)}"#
        // A `sub` that is not a string is refused by the verifier already (E9102).
        let malformed = try harness.send(
            "GET", "/echo/a",
            headers: [("Authorization", "Bearer " + Self.token(harness, payload: #"{"sub":null,"# + rest))])
        #expect(malformed.status == 401 && malformed.errorCode == "E9102")
        for sub in ["", #""sub":"","#, #""sub":"   ","#] {
            let token = Self.token(harness, payload: "{" + sub + rest)
            let answer = try harness.send("GET", "/echo/a", headers: [("Authorization", "Bearer \(token)")])
            #expect(answer.status == 401 && answer.errorCode == "E9432", "\(sub): \(answer.status) \(answer.text)")
            #expect(answer.header("WWW-Authenticate") == #"Bearer error="invalid_token""#)
        }
        let named = Self.token(harness, payload: #"{"sub":"user-9","# + rest)
        #expect(try harness.send("GET", "/echo/a", headers: [("Authorization", "Bearer \(named)")]).status == 200)
        #expect(harness.fake.seen.count == 1)
    }
}
