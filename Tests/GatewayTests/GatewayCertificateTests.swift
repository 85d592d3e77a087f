import Auth
import Config
import Foundation
import Gateway
import HTTPCodec
import Net
import Synchronization
import Testing

/// Verified client certificates stand for service accounts, by fingerprint or subject.
@Suite("Client-certificate identities")
struct GatewayCertificateTests {
    static let print = String(repeating: "ab", count: 32)

    static func harness() throws -> GatewayHarness {
        var options = GatewayHarness.Options()
        options.makeAuth = { clock in
            let policy = AccessPolicy(
                roles: AccessPolicy.defaultRoles,
                serviceAccounts: [
                    .init(id: "l04", scopes: ["echo:read"], certificateFingerprints: [print]),
                    .init(id: "l06", scopes: ["events:read"], certificateSubjects: ["CN=l06,O=Story Portal"]),
                ])
            return GatewayAuthentication(
                keyRing: JWTKeyRing(
                    fixedKeys: [try JWTVerifier.Key.hmac(secret: GatewayHarness.secret)],
                    configuration: JWTVerifier.Configuration(audience: GatewayHarness.audience), clock: clock),
                policy: policy)
        }
        return try GatewayHarness(options)
    }

    /// Calls the handler with the connection facts the TLS layer would give.
    static func call(
        _ harness: GatewayHarness, _ target: String, fingerprint: String?, subject: String?,
        headers: [(String, String)] = []
    ) throws -> HTTPResponse {
        let result = Mutex<HTTPResponse?>(nil)
        let done = DispatchSemaphore(value: 0)
        let loop = harness.group.loops[0]
        let connection = ConnectionInfo(
            remoteAddress: "127.0.0.1", remotePort: 40000, localPort: 8443, isTLS: true,
            clientCertificateSubject: subject, clientCertificateFingerprint: fingerprint)
        let service = harness.service
        loop.execute {
            service.handle(
                HTTPRequest(method: "GET", target: target, headers: HTTPHeaders([("Host", "gw.test")] + headers)),
                connection: connection, loop: loop
            ) { response in
                result.withLock { $0 = response }
                done.signal()
            }
        }
        #expect(done.wait(timeout: .now() + 5) == .success)
        return try #require(result.withLock { $0 })
    }

    @Test("a mapped certificate authenticates its account, by fingerprint or by subject, with its scopes")
    func mapped() throws {
        let harness = try Self.harness()
        defer { harness.shutdown() }
        let byPrint = try Self.call(harness, "/echo/a", fingerprint: Self.print, subject: "CN=anything")
        #expect(byPrint.status == 200)
        #expect(harness.fake.seen.last?.values(normalisedName: "x-consumer-id") == ["l04"])
        let other = String(repeating: "cd", count: 32)
        let bySubject = try Self.call(harness, "/api/v1/events", fingerprint: other, subject: "CN=l06,O=Story Portal")
        #expect(bySubject.status == 200)
        // l06 does not hold echo:read: known, but without the right.
        #expect(try Self.call(harness, "/echo/a", fingerprint: "00", subject: "CN=l06,O=Story Portal").status == 403)
    }

    @Test("unmapped certificates get 401 E9107; headers cannot claim a certificate; a credential header wins")
    func unmappedAndHeaders() throws {
        let harness = try Self.harness()
        defer { harness.shutdown() }
        let stranger = String(repeating: "ef", count: 32)
        let unmapped = try Self.call(harness, "/echo/a", fingerprint: stranger, subject: "CN=x")
        #expect(unmapped.status == 401 && String(decoding: unmapped.body, as: UTF8.self).contains("E9107"))
        // Without a verified certificate, certificate-like headers count for nothing.
        let claimed = try Self.call(
            harness, "/echo/a", fingerprint: nil, subject: nil,
            headers: [("X-Client-Cert-Fingerprint", Self.print), ("X-SSL-Client-S-DN", "CN=l06,O=Story Portal")])
        #expect(claimed.status == 401 && String(decoding: claimed.body, as: UTF8.self).contains("E9101"))
        // A bad bearer token is not rescued by a good certificate.
        let both = try Self.call(
            harness, "/echo/a", fingerprint: Self.print, subject: nil, headers: [("Authorization", "Bearer nope")])
        #expect(both.status == 401)
    }
}
