import Auth
import PortalCore
import Testing

@Suite("Consumer identity signatures")
struct ConsumerSignatureTests {
    static let key = Array("identity-key-shared-by-gateway-and-l01!".utf8)
    static let fields = ConsumerSignature.Fields(
        timestamp: 1_767_225_600, requestID: "req-1", method: "POST", target: "/api/v1/events", consumerID: "alice",
        scopes: "events:read events:write")

    @Test("a signature verifies once; any changed field, another key or a stale time fails; a replay is caught")
    func verify() {
        let clock = ManualClock(unixSeconds: 1_767_225_610)
        let signature = ConsumerSignature(key: Self.key).sign(Self.fields)
        #expect(signature.hasPrefix("v1="))
        let verifier = ConsumerSignatureVerifier(key: Self.key, clock: clock)
        #expect(verifier.check(signature, Self.fields) == nil)
        #expect(verifier.check(signature, Self.fields) == .replayed)
        var changed: [ConsumerSignature.Fields] = []
        for index in 0..<6 {
            var fields = Self.fields
            switch index {
            case 0: fields.requestID = "req-2"
            case 1: fields.method = "GET"
            case 2: fields.target = "/api/v1/events?x=1"
            case 3: fields.consumerID = "admin"
            case 4: fields.scopes = "* events:read"
            default: fields.timestamp += 1
            }
            changed.append(fields)
        }
        for fields in changed { #expect(verifier.check(signature, fields) == .forged) }
        let other = ConsumerSignature(key: Array(repeating: 7, count: 32)).sign(Self.fields)
        #expect(ConsumerSignatureVerifier(key: Self.key, clock: clock).check(other, Self.fields) == .forged)
        #expect(verifier.check(nil, Self.fields) == .missing && verifier.check(signature, nil) == .missing)
        #expect(verifier.check("v1=%%%", Self.fields) == .forged)
        clock.advance(seconds: 30)
        #expect(ConsumerSignatureVerifier(key: Self.key, clock: clock).check(signature, Self.fields) == .stale)
    }
}
