import Auth
import PortalCore
import Testing
import VectorTestSupport

@Suite("JWT verification vectors")
struct JWTVectorTests {
    @Test("every case of jwt-verification.json gets its expected verdict, for all algorithms")
    func sharedVectors() throws {
        let document = try JSONParser().parse(try VectorFiles.read("jwt-verification.json"))
        let jwks = try #require(document["jwks"])
        let set = try JWKSet(json: jwks.serialized())
        #expect(set.skipped.isEmpty)
        #expect(Set(set.keys.map(\.algorithm)) == [.hs256, .rs256, .ps256, .es256, .es384, .edDSA])
        let cases = try #require(document["cases"]?.arrayValue)
        #expect(cases.count >= 40)
        var accepted: Set<JWTAlgorithm> = []
        for item in cases {
            let name = item["name"]?.stringValue ?? "?"
            let token = try #require(item["token"]?.stringValue, "\(name) has a token")
            let now = try #require(item["now"]?.numberValue?.int64)
            let leeway = item["leeway_seconds"]?.numberValue?.int64 ?? 60
            let configuration = JWTVerifier.Configuration(
                issuer: item["issuer"]?.stringValue, audience: item["audience"]?.stringValue, leewaySeconds: leeway)
            let clock = ManualClock(unixSeconds: now)
            let verifier = JWTVerifier(keys: set.keys, configuration: configuration, clock: clock)
            switch item["expect"]?.stringValue {
            case "accept":
                do {
                    let verified = try verifier.verify(token)
                    accepted.insert(verified.algorithm)
                } catch {
                    Issue.record("\(name) must be accepted, got \(error)")
                }
            case "reject":
                #expect(throws: JWTError.self, "\(name) must be rejected") { try verifier.verify(token) }
            default:
                Issue.record("\(name): unknown expectation")
            }
        }
        // Every algorithm of the key set was accepted at least once.
        #expect(accepted == [.hs256, .rs256, .ps256, .es256, .es384, .edDSA])
    }
}
