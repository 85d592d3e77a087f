import Foundation
import Testing

/// mTLS against `portal serve`: curl presents a certificate signed by the client CA, and the gateway maps it to
/// a service account from PORTAL_CONFIG.
@Suite("portal serve with client certificates")
struct ClientCertificateServeTests {
    private func openssl(_ arguments: [String], in dir: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = dir
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "openssl \(arguments.first ?? "")")
        return output
    }

    @Test("a service authenticates by client certificate alone; another CA's or no certificate gets no identity")
    func certificateIdentity() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var env = PortalProcess.baseEnvironment(dataDirectory: dir)
        let made = try PortalProcess.run(
            ["cert", "self-signed", "--host", "localhost", "--out", dir.appendingPathComponent("tls").path],
            environment: env, in: dir)
        #expect(made.status == 0)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        let ca = ["-subj", "/CN=Portal Client CA", "-days", "2", "-keyout", "ca.key", "-out", "ca.pem"]
        _ = try openssl(["req", "-x509"] + ec + ca, in: dir)
        for name in ["l08", "intruder"] {
            let request = ["-subj", "/O=Story Portal/CN=\(name)", "-keyout", "\(name).key", "-out", "\(name).csr"]
            _ = try openssl(["req"] + ec + request, in: dir)
        }
        let signed = ["-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-out", "l08.pem"]
        _ = try openssl(["x509", "-req", "-in", "l08.csr"] + signed, in: dir)
        let selfSigned = ["-signkey", "intruder.key", "-days", "2", "-out", "intruder.pem"]
        _ = try openssl(["x509", "-req", "-in", "intruder.csr"] + selfSigned, in: dir)
        let fingerprint =
            try openssl(["x509", "-in", "l08.pem", "-noout", "-fingerprint", "-sha256"], in: dir)
            .split(separator: "=").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        let config = """
            {"routes": [{"prefix": "/api/v1/events", "upstream": "http://127.0.0.1:1",
                         "scopes_by_method": {"GET": ["events:read"]}}],
             "service_accounts": {"l08": {"scopes": ["events:read"], "certificates": [{"sha256": "\(fingerprint)"}]}}}
            """
        try config.write(to: dir.appendingPathComponent("portal.json"), atomically: true, encoding: .utf8)
        env["PORTAL_CONFIG"] = dir.appendingPathComponent("portal.json").path
        env["TLS_ENABLED"] = "true"
        env["TLS_PORT"] = "0"
        env["TLS_CERT_PATH"] = dir.appendingPathComponent("tls/cert.pem").path
        env["TLS_KEY_PATH"] = dir.appendingPathComponent("tls/key.pem").path
        env["TLS_CLIENT_AUTH"] = "optional"
        env["TLS_CLIENT_CA_PATH"] = dir.appendingPathComponent("ca.pem").path
        let portal = try RunningPortal(
            environment: env, directory: dir, expectedListeners: ["gateway", "gateway https", "admin", "data layer"])
        defer { _ = portal.terminate() }
        let url = "https://localhost:\(try #require(portal.ports["gateway https"]))/api/v1/events"
        let cacert = dir.appendingPathComponent("tls/cert.pem").path

        // The route's upstream is closed: getting past authentication and authorization shows as 502.
        let mapped = try Curl.request([
            "--cacert", cacert, "--cert", dir.appendingPathComponent("l08.pem").path,
            "--key", dir.appendingPathComponent("l08.key").path, url,
        ])
        #expect(mapped.status == 502, "\(mapped.status) \(mapped.body)")
        let anonymous = try Curl.request(["--cacert", cacert, url])
        #expect(anonymous.status == 401)
        // A certificate from no trusted CA does not complete the handshake.
        let foreign = try? Curl.request([
            "--cacert", cacert, "--cert", dir.appendingPathComponent("intruder.pem").path,
            "--key", dir.appendingPathComponent("intruder.key").path, url,
        ])
        #expect(foreign == nil || foreign?.status == 401)
        #expect(portal.terminate() == 0)
        let audit = try String(contentsOf: dir.appendingPathComponent("audit.log"), encoding: .utf8)
        #expect(audit.contains(#""subject":"l08""#) && audit.contains(#""reason":"certificate""#))
    }
}
