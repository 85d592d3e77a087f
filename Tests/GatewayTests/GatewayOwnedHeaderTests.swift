import Config
import Testing

/// Headers the gateway owns: client forgeries never reach an upstream, and no CR, LF or NUL ever leaves the
/// gateway in a field, whether it came from the client, the upstream or the configuration.
@Suite("Gateway-owned headers and injection")
struct GatewayOwnedHeaderTests {
    /// Forged fields, each in the spellings a lenient upstream folds together; every value holds `forged`.
    static let forged: [(String, String)] = [
        ("X-Forwarded-For", "forged-1"), ("X_FORWARDED_FOR", "forged-2"), ("x.forwarded.for", "forged-3"),
        ("X-Forwarded-Prefix", "/forged"), ("X_Forwarded_Uri", "/forged"), ("FORWARDED", "for=forged"),
        ("X-Request-ID", "forged id"), ("X_Request_ID", "forged-ok-id"), ("x.request.id", "forged-ok-id2"),
        ("X-Consumer-ID", "forged-admin"), ("x_consumer_roles", "forged-admin"), ("X.Consumer.Scopes", "forged"),
        ("X-Original-URL", "/admin?forged"), ("X_Original_URL", "/admin?forged"), ("x.original.url", "/forged"),
        ("X-Original-URI", "/forged"), ("X-Rewrite-URL", "/admin?forged"), ("X_Rewrite_Url", "/forged"),
        ("X-HTTP-Method-Override", "DELETE-forged"), ("x_http_method_override", "DELETE-forged"),
        ("X-Method-Override", "DELETE-forged"), ("X-HTTP-Method", "DELETE-forged"),
        ("X-Service-Key", "forged-key"), ("X-Real-IP", "forged-ip"),
    ]

    @Test("forged forwarding, consumer, request-id and routing-override fields never reach the upstream")
    func forgedFieldsDropped() throws {
        let harness = try GatewayHarness()
        defer { harness.shutdown() }
        let token = try harness.token(scopes: ["echo:read"], subject: "user-9")

        let response = try harness.send(
            "GET", "/echo/item", headers: [("Authorization", "Bearer " + token), ("X-Kept", "kept")] + Self.forged)

        #expect(response.status == 200)
        let seen = try #require(harness.fake.seen.first)
        #expect(seen.method == "GET")
        #expect(seen.target == "/base/echo/item")
        #expect(seen.values(normalisedName: "x-kept") == ["kept"])
        #expect(seen.values(normalisedName: "x-consumer-id") == ["user-9"])
        let answeredID = try #require(response.header("X-Request-ID"))
        #expect(!answeredID.contains("forged"))
        #expect(seen.values(normalisedName: "x-request-id") == [answeredID])
        for field in seen.headers.fields {
            #expect(!field.value.contains("forged"), "\(field.name) reached the upstream")
        }
        let overrides = [
            "x-original-url", "x-original-uri", "x-rewrite-url", "x-http-method-override", "x-method-override",
            "x-http-method", "x-forwarded-prefix", "x-forwarded-uri", "x-consumer-roles", "x-real-ip", "forwarded",
        ]
        for name in overrides {
            #expect(seen.values(normalisedName: name).isEmpty, "\(name) reached the upstream")
        }
    }

    @Test("a client field holding CR, LF or NUL is refused before any upstream sees the request")
    func clientInjectionRefused() throws {
        let harness = try GatewayHarness()
        defer { harness.shutdown() }
        let values = ["a\rX-Injected: yes", "a\u{0}b", "a\r X-Injected: yes", "a\u{0B}b", "a\u{7F}b"]
        for value in values {
            let client = try harness.client()
            try client.send("GET /public/x HTTP/1.1\r\nHost: test.local\r\nX-Probe: \(value)\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 400, "\(value.debugDescription)")
        }
        // A bare LF ends the field early; what follows is a second line that must not become a field either.
        let client = try harness.client()
        try client.send("GET /public/x HTTP/1.1\r\nHost: test.local\r\nX-Probe: a\nX-Injected: yes\r\n\r\n")
        #expect(try client.readResponse().status == 400)
        #expect(harness.fake.seen.isEmpty)
    }

    @Test("an upstream response field holding CR, LF or NUL never reaches the client")
    func upstreamInjectionStopped() throws {
        let heads = [
            "X-Evil: a\rInjected: yes", "X-Evil: a\u{0}Injected: yes", "X-Evil: a\nInjected: yes",
            "X-Evil: a\r\n Injected: yes", "X-Evil: a\u{0B}Injected: yes",
        ]
        let raws = try heads.map { head in
            try RawUpstream(response: "HTTP/1.1 200 OK\r\n\(head)\r\nX-Clean: fine\r\nContent-Length: 2\r\n\r\nok")
        }
        defer { raws.forEach { $0.stop() } }
        let routes = raws.enumerated().map { index, raw in
            Route(
                prefix: "/raw\(index)", upstream: UpstreamURL(host: "127.0.0.1", port: raw.port),
                scopesByMethod: ["GET": []], isPublic: true)
        }
        let harness = try GatewayHarness(GatewayHarness.Options(extraRoutes: routes))
        defer { harness.shutdown() }

        for (index, head) in heads.enumerated() {
            let response = try harness.send("GET", "/raw\(index)/x")
            // Either the upstream's answer is refused (502) or the field is dropped; never written out.
            #expect(response.status == 502 || response.status == 200, "\(head.debugDescription)")
            #expect(response.header("Injected") == nil, "\(head.debugDescription)")
            #expect(response.header("X-Evil") == nil, "\(head.debugDescription)")
            for (name, value) in response.headers {
                let bytes = Array(name.utf8) + Array(value.utf8)
                #expect(!bytes.contains { $0 < 0x20 && $0 != 0x09 }, "\(head.debugDescription)")
                #expect(!value.contains("Injected"), "\(head.debugDescription)")
            }
        }
    }

    @Test("a configured value holding CR or LF is never written to the upstream; a clean one is")
    func configInjectionStopped() throws {
        let dirty = try GatewayHarness(GatewayHarness.Options(fakeUpstreamServiceKey: "key\r\nX-Injected: yes"))
        defer { dirty.shutdown() }
        #expect(try dirty.send("GET", "/public/x").status == 200)
        let seen = try #require(dirty.fake.seen.first)
        #expect(seen.values(normalisedName: "x-injected").isEmpty)
        #expect(seen.values(normalisedName: "x-service-key").isEmpty)
        for field in seen.headers.fields {
            #expect(!field.value.contains("Injected") && !field.value.contains("key\r"), "\(field.name)")
        }

        let clean = try GatewayHarness(GatewayHarness.Options(fakeUpstreamServiceKey: "clean-key"))
        defer { clean.shutdown() }
        #expect(try clean.send("GET", "/public/x").status == 200)
        #expect(clean.fake.seen.first?.values(normalisedName: "x-service-key") == ["clean-key"])
    }
}
