import DataLayer
import Foundation
import HTTPCodec
import Store
import Synchronization
import Testing

/// `DELETE /api/v1/subjects/{id}`: who may erase, what the answer says, and how erased events read back.
@Suite("Subject erasure API")
struct SubjectErasureTests {
    static func encryption() throws -> EventEncryption {
        EventEncryption(masterKey: try #require(MasterKey(secret: Array(repeating: 0x5A, count: 32))))
    }

    private func erase(
        _ harness: RouterHarness, _ subject: String, scopes: String?, method: String = "DELETE"
    ) -> HTTPResponse {
        var headers = HTTPHeaders([("X-Service-Key", RouterHarness.key), ("X-Consumer-ID", "dpo-1")])
        if let scopes { headers.add("X-Consumer-Scopes", scopes) }
        headers.add("X-Request-ID", "req-erase-1")
        return harness.route(HTTPRequest(method: method, target: "/api/v1/subjects/" + subject, headers: headers))
    }

    @Test("without subjects:erase the answer is 403 E9371, the same whether the subject exists or not")
    func forbiddenWithoutScope() throws {
        let harness = try RouterHarness(encryption: try Self.encryption(), signed: true)
        _ = try harness.append(aggregate: "alice")
        for scopes in [nil, "", "events:read events:write", "subjects:erase-all", "subjects"] as [String?] {
            let known = erase(harness, "alice", scopes: scopes)
            let unknown = erase(harness, "nobody", scopes: scopes)
            #expect(known.status == 403 && known.errorCodeAndField.code == "E9371")
            #expect(known.body == unknown.body)
        }
        // Nothing was erased by the refused calls.
        let list = try harness.send("GET", "/api/v1/events?aggregate_id=alice").jsonObject()
        #expect((list["events"] as? [[String: Any]])?.count == 1)
    }

    @Test("an admin erases: 200 with counts; the events read back erased by id and list; others are intact")
    func erasesEndToEnd() throws {
        let seen = Mutex<[String]>([])
        let harness = try RouterHarness(encryption: try Self.encryption(), signed: true) { erasure, actor, requestID in
            seen.withLock { $0.append("\(actor) \(requestID ?? "-") \(erasure.erasedEvents)") }
        }
        let alice = [try harness.append(aggregate: "alice", n: 1), try harness.append(aggregate: "alice", n: 2)]
        let bob = try harness.append(aggregate: "bob", n: 3)

        let response = erase(harness, "alice", scopes: "events:read subjects:erase")
        #expect(response.status == 200)
        let body = try response.jsonObject()
        #expect(body["events_erased"] as? Int == 2 && body["data_keys_destroyed"] as? Int == 1)
        #expect((body["subject_hash"] as? String)?.count == 64)
        #expect(!String(decoding: response.body, as: UTF8.self).contains("alice"))
        #expect(seen.withLock { $0 } == ["dpo-1 req-erase-1 2"])

        for event in alice {
            let id = try #require(event["id"] as? String)
            let read = try harness.send("GET", "/api/v1/events/" + id).jsonObject()
            #expect(read["erased"] as? Bool == true)
            #expect(read["payload"] is NSNull && read["metadata"] is NSNull)
            #expect(read["aggregate_id"] as? String == "erased:" + id)
        }
        let bobRead = try harness.send("GET", "/api/v1/events/" + (bob["id"] as? String ?? "")).jsonObject()
        #expect(bobRead["erased"] == nil && (bobRead["payload"] as? [String: Any])?["n"] as? Int == 3)
        let listed = try harness.send("GET", "/api/v1/events").jsonObject()["events"] as? [[String: Any]] ?? []
        #expect(listed.filter { $0["erased"] as? Bool == true }.count == 2)
        #expect(listed.contains { $0["event_type"] as? String == "subject.erased" })
        #expect(!listed.contains { "\($0)".contains("alice") })

        // Idempotent, and `*` is as good as the scope itself.
        let again = try erase(harness, "alice", scopes: "*").jsonObject()
        #expect(again["events_erased"] as? Int == 0 && again["data_keys_destroyed"] as? Int == 0)
    }

    @Test("a bad subject id is 400 E9372, other methods 405, and without a master key erasure is 501 E9373")
    func refusals() throws {
        let harness = try RouterHarness(encryption: try Self.encryption(), signed: true)
        let long = String(repeating: "a", count: 129)
        // Ids under the prefixes erasure itself writes: erasing them would erase the evidence of erasures.
        for bad in ["a%20b", long, "a'b", "erased:0f0e", "subject:ab12"] {
            let response = erase(harness, bad, scopes: "subjects:erase")
            #expect(response.status == 400 && response.errorCodeAndField.code == "E9372", "\(bad)")
        }
        let get = erase(harness, "alice", scopes: "subjects:erase", method: "GET")
        #expect(get.status == 405 && get.headers.first("Allow") == "DELETE")
        #expect(erase(harness, "alice/x", scopes: "subjects:erase").status == 404)
        let plain = try RouterHarness(signed: true)
        let refused = erase(plain, "alice", scopes: "subjects:erase")
        #expect(refused.status == 501 && refused.errorCodeAndField.code == "E9373")
    }

    @Test("without L01_IDENTITY_KEY the scopes header is anybody's word: erasure is 403 E9375 and nothing is erased")
    func unsignedIdentityCannotErase() throws {
        let harness = try RouterHarness(encryption: try Self.encryption())
        _ = try harness.append(aggregate: "alice")
        let refused = erase(harness, "alice", scopes: "subjects:erase")
        #expect(refused.status == 403 && refused.errorCodeAndField.code == "E9375")
        let list = try harness.send("GET", "/api/v1/events?aggregate_id=alice").jsonObject()
        let events = try #require(list["events"] as? [[String: Any]])
        #expect(events.count == 1 && events[0]["erased"] as? Bool != true && events[0]["payload"] is [String: Any])
    }

    @Test("appends under the names erasure writes are refused, so nobody can block an erasure or forge its record")
    func reservedNamesRefused() throws {
        let harness = try RouterHarness(encryption: try Self.encryption(), signed: true)
        let victim = try harness.append(aggregate: "user-43")
        let victimID = try #require(victim["id"] as? String)
        let forged = [
            #"{"event_type":"profile.updated","aggregate_type":"user","aggregate_id":"erased:\#(victimID)","payload":{}}"#,
            #"{"event_type":"profile.updated","aggregate_type":"user","aggregate_id":"subject:abc","payload":{}}"#,
            #"{"event_type":"subject.erased","aggregate_type":"user","aggregate_id":"u-1","payload":{}}"#,
            #"{"event_type":"profile.updated","aggregate_type":"subject","aggregate_id":"u-1","payload":{}}"#,
        ]
        for body in forged {
            let response = harness.post(body)
            #expect(response.status == 400, "\(body)")
        }
        let erased = erase(harness, "user-43", scopes: "subjects:erase")
        #expect(erased.status == 200)
        #expect(try erased.jsonObject()["events_erased"] as? Int == 1)
    }
}
