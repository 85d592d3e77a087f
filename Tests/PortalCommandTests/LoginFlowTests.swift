import Foundation
import PortalCore
import Testing

/// The whole login story against `portal serve`, with curl, as an operator and a client would live it.
@Suite("login, refresh and replay against portal serve")
struct LoginFlowTests {
    @Test("ES256 tokens: a user logs in, calls a route, refreshes; a replayed refresh revokes the family")
    func loginRefreshReplay() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let keyPath = dir.appendingPathComponent("es256.pem").path
        let made = Process()
        made.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        made.arguments = ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", keyPath]
        try made.run()
        made.waitUntilExit()
        #expect(made.terminationStatus == 0)
        var env = PortalProcess.baseEnvironment(dataDirectory: dir)
        env["JWT_SIGNING_ALGORITHM"] = "ES256"
        env["JWT_SIGNING_KEY_FILE"] = keyPath
        env["JWT_ISSUER"] = "https://portal.test"
        env["JWT_AUDIENCE"] = "portal-api"
        let password = "a long and private passphrase"
        let added = try PortalProcess.run(
            ["user", "add", "alice", "--roles", "developer"], environment: env, in: dir, stdin: password + "\n")
        #expect(added.status == 0, "\(added.stderr)")
        let portal = try RunningPortal(
            environment: env, directory: dir, expectedListeners: ["gateway", "admin", "data layer"])
        defer { _ = portal.terminate() }
        let gateway = "http://127.0.0.1:\(try #require(portal.ports["gateway"]))"

        let login = try Curl.request([
            "-X", "POST", "\(gateway)/auth/token", "--data-urlencode", "grant_type=password",
            "--data-urlencode", "username=alice", "--data-urlencode", "password=\(password)",
        ])
        #expect(login.status == 200, "\(login.body)")
        let access = try #require(login.json?["access_token"] as? String)
        let refresh = try #require(login.json?["refresh_token"] as? String)
        let header = try #require(Base64URL.decode(access.split(separator: ".")[0]))
        let headerText = String(decoding: header, as: UTF8.self)
        #expect(headerText.contains(#""alg":"ES256""#) && headerText.contains(#""kid":"es256-"#))
        let call = try Curl.request(["-H", "Authorization: Bearer \(access)", "\(gateway)/api/v1/events"])
        #expect(call.status == 200, "\(call.body)")

        let refreshed = try Curl.request([
            "-X", "POST", "\(gateway)/auth/token", "-d", "grant_type=refresh_token", "-d", "refresh_token=\(refresh)",
        ])
        #expect(refreshed.status == 200)
        let access2 = try #require(refreshed.json?["access_token"] as? String)
        #expect(try Curl.request(["-H", "Authorization: Bearer \(access2)", "\(gateway)/api/v1/events"]).status == 200)

        let replay = try Curl.request([
            "-X", "POST", "\(gateway)/auth/token", "-d", "grant_type=refresh_token", "-d", "refresh_token=\(refresh)",
        ])
        #expect(replay.status == 400 && replay.json?["error"] as? String == "invalid_grant")
        #expect(try Curl.request(["-H", "Authorization: Bearer \(access2)", "\(gateway)/api/v1/events"]).status == 401)
        #expect(portal.terminate() == 0)
        let audit = try String(contentsOf: dir.appendingPathComponent("audit.log"), encoding: .utf8)
        #expect(audit.contains(#""type":"token.refresh_replayed""#))
        #expect(!audit.contains(password) && !audit.contains(refresh) && !audit.contains(access))
    }
}
