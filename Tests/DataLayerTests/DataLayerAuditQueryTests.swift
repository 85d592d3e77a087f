import Audit
import Auth
import DataLayer
import Foundation
import HTTPCodec
import PortalCore
import Store
import Testing

/// `GET /api/v1/audit`: who may read the trail, strict filters, pages and JSON-lines export.
@Suite("Data layer: audit query API")
struct DataLayerAuditQueryTests {
    static let identityKey = Array("an identity key of at least 32 bytes....".utf8)
    static let serviceKey = "svc-key-7f3a9c0e5b1d"

    /// A router over a fresh SQLite store holding 12 real sealed records of source `gw-1`: odd ones
    /// `auth.failure` of nobody, even ones `authz.denied` of `alice` (sequences 2, 4, 6) or `bob` (8, 10, 12).
    struct Harness {
        let router: DataLayerRouter
        let lines: [String]
        private let signer = ConsumerSignature(key: identityKey)

        init(identity: Bool = true) throws {
            let directory = NSTemporaryDirectory() + "audit-query-tests-" + UUID().uuidString
            let store = try SQLiteEventStore(directory: directory)
            router = DataLayerRouter(
                store: store, auditRecords: store, authenticator: ServiceKeyAuthenticator(keys: [serviceKey]),
                configuration: DataLayerConfiguration(defaultPageSize: 5, maxPageSize: 50),
                identity: identity ? ConsumerSignatureVerifier(key: identityKey) : nil)
            let path = directory + "/audit.log"
            let log = try AuditLog(path: path, commitIntervalMilliseconds: 1)
            for n in 1...12 {
                log.record(
                    n % 2 == 1
                        ? AuditRecord(
                            type: .authFailure, outcome: .failure, requestID: "req-\(n)", reason: "no credential")
                        : AuditRecord(
                            type: .authzDenied, outcome: .denied, requestID: "req-\(n)",
                            subject: n <= 6 ? "alice" : "bob",
                            reason: "missing scope"))
            }
            log.close()
            lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
            var headers = HTTPHeaders()
            headers.add("X-Service-Key", serviceKey)
            headers.add("Content-Type", "application/json")
            let shipped = router.route(
                HTTPRequest(
                    method: "POST", target: "/api/v1/audit-records", headers: headers,
                    body: Array(SealedLines.body(source: "gw-1", lines).utf8)))
            #expect(shipped.status == 200)
        }

        /// A GET as the gateway forwards it: the service key and the caller's identity, signed unless `signed` is
        /// false.
        func get(
            _ target: String, scopes: String = "audit:read", signed: Bool = true, accept: String? = nil
        ) -> HTTPResponse {
            let requestID = "req-" + UUID().uuidString.prefix(8)
            var headers = HTTPHeaders()
            headers.add("X-Service-Key", serviceKey)
            headers.add("X-Request-ID", String(requestID))
            headers.add("X-Consumer-ID", "auditor")
            headers.add("X-Consumer-Scopes", scopes)
            headers.add("X-Forwarded-For", "192.0.2.7")
            if let accept { headers.add("Accept", accept) }
            let timestamp = Int64(Date().timeIntervalSince1970)
            headers.add(ConsumerSignature.timestampHeader, String(timestamp))
            let nonce = UUID().uuidString
            headers.add(ConsumerSignature.nonceHeader, nonce)
            if signed {
                let fields = ConsumerSignature.Fields(
                    timestamp: timestamp, nonce: nonce, requestID: String(requestID), method: "GET", target: target,
                    consumerID: "auditor", scopes: scopes)
                headers.add(ConsumerSignature.signatureHeader, signer.sign(fields))
            }
            return router.route(HTTPRequest(method: "GET", target: target, headers: headers))
        }
    }

    private func sequences(_ response: HTTPResponse) throws -> [Int] {
        let records = try #require(try response.jsonObject()["records"] as? [[String: Any]])
        return records.compactMap { ($0["record"] as? [String: Any])?["sequence"] as? Int }
    }

    @Test("only a signed identity holding audit:read or * reads the trail")
    func authorization() throws {
        let harness = try Harness()
        #expect(harness.get("/api/v1/audit").status == 200)
        #expect(harness.get("/api/v1/audit", scopes: "events:read *").status == 200)
        let noScope = harness.get("/api/v1/audit", scopes: "events:read events:write")
        #expect(noScope.status == 403 && noScope.errorCodeAndField.code == "E9360")
        let lookalike = harness.get("/api/v1/audit", scopes: "audit:readx audit:write")
        #expect(lookalike.status == 403)
        let unsigned = harness.get("/api/v1/audit", signed: false)
        #expect(unsigned.status == 401 && unsigned.errorCodeAndField.code == "E9109")
        // Without the identity key the scopes header is anybody's word: nobody reads the trail.
        let untrusted = try Harness(identity: false).get("/api/v1/audit", signed: false)
        #expect(untrusted.status == 403 && untrusted.errorCodeAndField.code == "E9361")
        #expect(harness.get("/api/v1/audit").body.count > 0)
    }

    @Test(
        "a bad filter is 400 naming the parameter",
        arguments: [
            ("type=Auth.Failure", "type"), ("type=", "type"), ("outcome=maybe", "outcome"),
            ("since=2026-12-04", "since"), ("until=2026-02-30T00:00:00Z", "until"),
            ("since=2026-12-04T10:00:00Z&until=2026-12-04T09:00:00Z", "until"), ("limit=0", "limit"),
            ("limit=51", "limit"), ("limit=-1", "limit"), ("after=12", "after"), ("after=gw-1@x", "after"),
            ("source=a%20b", "source"), ("subject=a%0Ab", "subject"), ("format=xml", "format"),
            ("type=auth.failure&type=authz.denied", "type"),
        ])
    func badFilters(query: String, parameter: String) throws {
        let response = try Harness().get("/api/v1/audit?" + query)
        #expect(response.status == 400)
        #expect(response.errorCodeAndField.code == "E9308" && response.errorCodeAndField.field == parameter)
    }

    @Test("an unknown parameter is 400 E9309")
    func unknownParameter() throws {
        let response = try Harness().get("/api/v1/audit?typ=auth.failure")
        #expect(response.status == 400 && response.errorCodeAndField.code == "E9309")
    }

    @Test("filters by type, subject, outcome and time; pages follow next_after to the end")
    func filtersAndPages() throws {
        let harness = try Harness()
        #expect(try sequences(harness.get("/api/v1/audit?type=authz.denied&limit=50")) == [2, 4, 6, 8, 10, 12])
        #expect(try sequences(harness.get("/api/v1/audit?subject=alice&limit=50")) == [2, 4, 6])
        #expect(try sequences(harness.get("/api/v1/audit?outcome=failure&limit=50")) == [1, 3, 5, 7, 9, 11])
        #expect(try sequences(harness.get("/api/v1/audit?subject=bob&outcome=failure")).isEmpty)
        let future = try sequences(harness.get("/api/v1/audit?since=2999-01-01T00:00:00Z"))
        #expect(future.isEmpty)
        #expect(try sequences(harness.get("/api/v1/audit?until=2000-01-01T00:00:00Z")).isEmpty)
        #expect(try sequences(harness.get("/api/v1/audit?since=2000-01-01T00:00:00.000000Z&limit=50")).count == 12)

        // Default page of 5: 5, 5, 2, then no cursor.
        var seen: [Int] = []
        var target = "/api/v1/audit"
        while true {
            let page = harness.get(target)
            #expect(page.status == 200)
            seen += try sequences(page)
            guard let next = try page.jsonObject()["next_after"] as? String else { break }
            target = "/api/v1/audit?after=" + next
        }
        #expect(seen == Array(1...12))
        // Each record is the sealed line byte for byte, beside its source.
        let body = String(decoding: harness.get("/api/v1/audit?limit=1").body, as: UTF8.self)
        #expect(body.hasPrefix("{\"records\":[{\"source\":\"gw-1\",\"record\":" + harness.lines[0] + "}]"))
    }

    @Test("format=jsonl and Accept: application/x-ndjson export JSON lines, with X-Next-After while more follow")
    func jsonLinesExport() throws {
        let harness = try Harness()
        for response in [
            harness.get("/api/v1/audit?format=jsonl&limit=5"),
            harness.get("/api/v1/audit?limit=5", accept: "application/x-ndjson"),
        ] {
            #expect(response.status == 200)
            #expect(response.headers.first("Content-Type") == "application/x-ndjson")
            #expect(response.headers.first("X-Next-After") == "gw-1@5")
            let rows = String(decoding: response.body, as: UTF8.self).split(separator: "\n").map(String.init)
            #expect(rows == harness.lines.prefix(5).map { "{\"source\":\"gw-1\",\"record\":\($0)}" })
        }
        let last = harness.get("/api/v1/audit?format=jsonl&limit=50&after=gw-1@10")
        #expect(last.headers.first("X-Next-After") == nil)
        #expect(String(decoding: last.body, as: UTF8.self).split(separator: "\n").count == 2)
    }
}
