import Auth
import PortalCore
import Testing

@Suite("Consumer identity signatures")
struct ConsumerSignatureTests {
    static let key = Array("identity-key-shared-by-gateway-and-l01!".utf8)
    static let fields = ConsumerSignature.Fields(
        timestamp: 1_767_225_600, nonce: "0123456789abcdef0123456789abcdef", requestID: "req-1", method: "POST",
        target: "/api/v1/events", consumerID: "alice",
        scopes: "events:read events:write")

    @Test("a signature verifies once; any changed field, another key or a stale time fails; a replay is caught")
    func verify() {
        let clock = ManualClock(unixSeconds: 1_767_225_610)
        let signature = ConsumerSignature(key: Self.key).sign(Self.fields)
        #expect(signature.hasPrefix("v2="))
        let verifier = ConsumerSignatureVerifier(key: Self.key, clock: clock)
        #expect(verifier.check(signature, Self.fields) == nil)
        #expect(verifier.check(signature, Self.fields) == .replayed)
        var changed: [ConsumerSignature.Fields] = []
        for index in 0..<7 {
            var fields = Self.fields
            switch index {
            case 0: fields.requestID = "req-2"
            case 1: fields.method = "GET"
            case 2: fields.target = "/api/v1/events?x=1"
            case 3: fields.consumerID = "admin"
            case 4: fields.scopes = "* events:read"
            case 5: fields.nonce = "0123456789abcdef0123456789abcdee"
            default: fields.timestamp += 1
            }
            changed.append(fields)
        }
        for fields in changed { #expect(verifier.check(signature, fields) == .forged) }
        let other = ConsumerSignature(key: Array(repeating: 7, count: 32)).sign(Self.fields)
        #expect(ConsumerSignatureVerifier(key: Self.key, clock: clock).check(other, Self.fields) == .forged)
        #expect(verifier.check(nil, Self.fields) == .missing && verifier.check(signature, nil) == .missing)
        #expect(verifier.check("v2=%%%", Self.fields) == .forged)
        clock.advance(seconds: 30)
        #expect(ConsumerSignatureVerifier(key: Self.key, clock: clock).check(signature, Self.fields) == .stale)
    }

    @Test("the replay cache keys on the nonce: identical requests with their own nonces all pass, a nonce twice fails")
    func nonces() {
        let clock = ManualClock(unixSeconds: 1_767_225_600)
        let signer = ConsumerSignature(key: Self.key)
        let verifier = ConsumerSignatureVerifier(key: Self.key, clock: clock)
        for n in 0..<3 {
            var fields = Self.fields
            fields.nonce = "nonce-of-request-number-\(n)"
            #expect(verifier.check(signer.sign(fields), fields) == nil)
        }
        var reused = Self.fields
        reused.nonce = "nonce-of-request-number-1"
        reused.requestID = "another-request"
        #expect(verifier.check(signer.sign(reused), reused) == .replayed)
        var short = Self.fields
        short.nonce = "short"
        #expect(verifier.check(signer.sign(short), short) == .malformed)
    }
}
