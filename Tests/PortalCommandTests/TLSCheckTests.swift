import Foundation
import Testing

/// `scripts/tls-check.sh` (testssl.sh, Debian package, installed by scripts/deps.sh) against the HTTPS listener
/// of `portal serve`: no finding of severity medium or higher.
///
/// The certificate is what an operator would deploy: a leaf signed by a CA, with OCSP and CRL locations and a
/// year of validity (a self-signed development certificate has no revocation information, which testssl rightly
/// reports as HIGH: a finding about the certificate, not the server). testssl runs the checks the issue names:
/// protocols, cipher categories, forward secrecy, server preference, server defaults (the certificate),
/// HTTP security headers and known vulnerabilities; client simulation is left out for time.
extension HeavyProcessTests {
    @Suite("testssl.sh against portal serve")
    struct TLSCheckTests {
        static let checks = ["-p", "-s", "-f", "-P", "-S", "-h", "-U"]

        static var repository: URL {
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent()
        }

        /// Runs `command` with /bin/sh in `dir`; returns the exit status and the combined output.
        static func shell(_ command: String, in dir: URL, timeoutSeconds: Double = 300) throws -> (Int32, String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", command + " 2>&1"]
            process.currentDirectoryURL = dir
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            let deadline = Date().addingTimeInterval(timeoutSeconds)
            while process.isRunning, Date() < deadline { usleep(50_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }

        /// A CA, and a P-256 leaf for `localhost` signed by it with OCSP and CRL locations: `ca.pem`, `chain.pem`,
        /// `key.pem` (0600) in `dir`.
        /// - Throws: `ProbeFailure` with openssl's output when it fails.
        static func makeCertificates(in dir: URL) throws {
            let extensions = """
                subjectAltName=DNS:localhost
                basicConstraints=critical,CA:FALSE
                keyUsage=critical,digitalSignature
                extendedKeyUsage=serverAuth
                authorityInfoAccess=OCSP;URI:http://127.0.0.1:9/ocsp
                crlDistributionPoints=URI:http://127.0.0.1:9/ca.crl
                """
            try extensions.write(to: dir.appendingPathComponent("leaf.cnf"), atomically: true, encoding: .utf8)
            let (status, output) = try shell(
                """
                set -e
                openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
                  -days 365 -subj "/CN=Portal Test CA" -addext "basicConstraints=critical,CA:TRUE" \
                  -addext "keyUsage=critical,keyCertSign,cRLSign"
                openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem -out leaf.csr \
                  -subj "/CN=localhost"
                openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem -days 365 \
                  -extfile leaf.cnf
                cat leaf.pem ca.pem > chain.pem
                chmod 600 key.pem ca.key
                """, in: dir)
            guard status == 0 else { throw ProbeFailure(description: "openssl: \(output)") }
        }

        @Test("scripts/tls-check.sh finds nothing of severity medium or higher on portal serve's HTTPS listener")
        func portalPasses() async throws {
            let (status, output, ids, exit) = try await onOwnThread {
                () throws -> (Int32, String, Set<String>, Int32?) in
                let dir = try PortalProcess.temporaryDirectory()
                defer { try? FileManager.default.removeItem(at: dir) }
                try Self.makeCertificates(in: dir)
                var env = PortalProcess.baseEnvironment(dataDirectory: dir.appendingPathComponent("data"))
                env["TLS_ENABLED"] = "true"
                env["TLS_PORT"] = "0"
                env["TLS_HOST"] = "127.0.0.1"
                env["TLS_CERT_PATH"] = dir.appendingPathComponent("chain.pem").path
                env["TLS_KEY_PATH"] = dir.appendingPathComponent("key.pem").path
                let portal = try RunningPortal(
                    environment: env, directory: dir,
                    expectedListeners: ["gateway", "gateway https", "admin", "data layer"])
                guard let port = portal.ports["gateway https"] else { throw ProbeFailure(description: "no https port") }
                let script = Self.repository.appendingPathComponent("scripts/tls-check.sh").path
                let (status, output) = try Self.shell(
                    "TLS_CHECK_OUT=\(dir.path)/report.json '\(script)' localhost:\(port) --ca ca.pem "
                        + Self.checks.joined(separator: " "), in: dir)
                let data = (try? Data(contentsOf: dir.appendingPathComponent("report.json"))) ?? Data()
                let findings = ((try? JSONSerialization.jsonObject(with: data)) as? [[String: Any]]) ?? []
                return (status, output, Set(findings.compactMap { $0["id"] as? String }), portal.terminate())
            }
            #expect(status == 0, "\(output)")
            // The scan really ran: the report holds the protocol and header findings it was asked for.
            #expect(ids.contains("TLS1_3") && ids.contains("TLS1_2") && ids.contains("HSTS_time"), "\(ids.sorted())")
            #expect(exit == 0)
        }

        @Test("the same check fails on a server without forward secrecy (openssl s_server), so it can fail")
        func weakServerFails() async throws {
            let (status, output) = try await onOwnThread { () throws -> (Int32, String) in
                let dir = try PortalProcess.temporaryDirectory()
                defer { try? FileManager.default.removeItem(at: dir) }
                let (made, madeOutput) = try Self.shell(
                    "openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa.key -out rsa.pem -days 365 "
                        + "-subj /CN=localhost -addext subjectAltName=DNS:localhost", in: dir)
                guard made == 0 else { throw ProbeFailure(description: "openssl: \(madeOutput)") }
                let port = Self.freePort()
                let server = Process()
                server.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
                server.arguments = [
                    "s_server", "-accept", "\(port)", "-cert", "rsa.pem", "-key", "rsa.key", "-cipher",
                    "AES128-GCM-SHA256",
                    "-no_tls1_3", "-www", "-quiet",
                ]
                server.currentDirectoryURL = dir
                server.standardOutput = FileHandle.nullDevice
                server.standardError = FileHandle.nullDevice
                try server.run()
                defer {
                    // SIGKILL: a child started from a test thread inherits its blocked signals, SIGTERM among them.
                    kill(server.processIdentifier, SIGKILL)
                    server.waitUntilExit()
                }
                usleep(500_000)
                let script = Self.repository.appendingPathComponent("scripts/tls-check.sh").path
                return try Self.shell("'\(script)' localhost:\(port) --ca rsa.pem -f", in: dir)
            }
            #expect(status == 1, "\(output)")
            #expect(output.contains("MEDIUM") || output.contains("HIGH"), "\(output)")
        }

        /// A port nothing listens on now: bound to 0, read back, closed.
        static func freePort() -> Int {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                    _ = bind(fd, pointer, length)
                    return getsockname(fd, pointer, &length)
                }
            }
            return Int(UInt16(bigEndian: address.sin_port))
        }
    }
}
