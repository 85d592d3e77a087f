import Foundation
import Testing

/// The gateway's field limit is the client's: a request the gateway takes is not refused 431 by the data layer
/// because of the fields the gateway adds when it forwards it.
@Suite("portal serve: the 100-field limit holds end to end")
struct FieldLimitServeTests {
    @Test("96 to 100 fields reach the data layer through the gateway; 101 is 431 at the gateway")
    func hundredFields() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let env = PortalProcess.baseEnvironment(dataDirectory: dir)
        let portal = try RunningPortal(
            environment: env, directory: dir, expectedListeners: ["gateway", "admin", "data layer"])
        defer { _ = portal.terminate() }
        let url = "http://127.0.0.1:\(try #require(portal.ports["gateway"]))/api/v1/events"
        let issued = try PortalProcess.run(
            ["token", "issue", "--sub", "alice", "--scope", "events:read"], environment: env, in: dir)
        let token = issued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        // curl sends Host, User-Agent and Accept; with Authorization that is four fields before the fillers.
        for total in [96, 100, 101] {
            var arguments = ["-H", "Authorization: Bearer \(token)"]
            for index in 0..<(total - 4) { arguments += ["-H", "X-Fill-\(index): value-\(index)"] }
            let answer = try Curl.request(arguments + [url])
            #expect(answer.status == (total <= 100 ? 200 : 431), "\(total) fields: \(answer.status) \(answer.body)")
        }
    }
}
