import DataLayer
import Foundation
import HTTPCodec
import Store
import Testing

@testable import Store

/// A store whose every call fails, as a full disk or a lost database would.
private struct FailingStore: EventStore {
    func append(_ event: NewEvent) throws -> StoredEvent { throw StoreError.step(10, "append") }
    func event(id: String) throws -> StoredEvent? { throw StoreError.step(10, "read") }
    func list(_ query: EventQuery) throws -> EventPage { throw StoreError.step(5, "list") }
    func ping() throws { throw StoreError.open(14) }
    func masterKeyIDsInUse() throws -> Set<String> { throw StoreError.open(14) }
    func rewrapKeys(batchSize: Int) throws -> MasterKeyRotation { throw StoreError.open(14) }
    func eraseSubject(_ subjectID: String, actor: String) throws -> SubjectErasure {
        throw StoreError.step(10, "erase")
    }
}

@Suite("DataLayerService")
struct DataLayerServiceTests {
    // A second call of respond would resume the continuation twice and trap, so this also checks "once".
    @Test("submit answers every request exactly once through the worker pool")
    func answersOffTheCallingThread() async throws {
        let service = DataLayerService(router: try RouterHarness().router, workerCount: 2)
        let statuses = await withTaskGroup(of: Int.self) { group in
            for n in 0..<20 {
                group.addTask {
                    await withCheckedContinuation { continuation in
                        let target = n % 2 == 0 ? "/health/live" : "/api/v1/events?limit=1"
                        var headers = HTTPHeaders()
                        headers.add("X-Service-Key", RouterHarness.key)
                        service.submit(HTTPRequest(method: "GET", target: target, headers: headers)) { response in
                            continuation.resume(returning: response.status)
                        }
                    }
                }
            }
            var collected: [Int] = []
            for await status in group { collected.append(status) }
            return collected
        }
        #expect(statuses.count == 20 && statuses.allSatisfy { $0 == 200 })
    }

    @Test("store failures become 500 or 503 JSON without details, and are reported")
    func storeFailures() throws {
        let reported = Counter()
        let router = DataLayerRouter(
            store: FailingStore(), authenticator: ServiceKeyAuthenticator(keys: [RouterHarness.key])
        ) { _ in reported.increment() }
        var headers = HTTPHeaders([("X-Service-Key", RouterHarness.key), ("Content-Type", "application/json")])
        let body = Array(DataLayerRouterTests.body().utf8)
        let cases: [(String, String, [UInt8], Int)] = [
            ("POST", "/api/v1/events", body, 500),
            ("GET", "/api/v1/events/00000000-0000-4000-8000-000000000000", [], 500),
            ("GET", "/api/v1/events", [], 503),
            ("GET", "/health/ready", [], 503),
        ]
        for (method, target, body, status) in cases {
            let response = router.route(HTTPRequest(method: method, target: target, headers: headers, body: body))
            #expect(response.status == status, "\(method) \(target)")
            #expect(!String(decoding: response.body, as: UTF8.self).contains("sqlite"))
        }
        #expect(reported.value == 4)
        headers.remove("X-Service-Key")
        #expect(router.route(HTTPRequest(method: "GET", target: "/health/live", headers: headers)).status == 200)
    }
}
