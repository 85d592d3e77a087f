import Net
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("HTTPServer over TLS against curl, Python's ssl and openssl s_client", .serialized)
struct TLSServerClientTests {
    func withServer(_ auth: TLSClientAuthentication = .none, _ body: (TLSTestServer) throws -> Void) throws {
        let server = try TLSTestServer(auth)
        defer { server.stop() }
        try body(server)
    }

    @Test("curl with TLS 1.3 and with TLS 1.2 gets 200 for three URLs over one reused connection")
    func curlKeepAlive() throws {
        try withServer { server in
            for flags in [["--tlsv1.3"], ["--tlsv1.2", "--tls-max", "1.2"]] {
                let result = server.curl(
                    ["/a", "/b", "/c"], flags + ["-w", "code=%{http_code} connects=%{num_connects}\n"])
                #expect(result.status == 0, "\(flags): \(result.output)")
                for target in ["/a", "/b", "/c"] {
                    #expect(result.output.contains("target=\(target) tls=true subject=none"), "\(result.output)")
                }
                #expect(result.output.components(separatedBy: "code=200").count - 1 == 3, "\(result.output)")
                // One TCP connection in all: only the first transfer had to connect.
                #expect(result.output.components(separatedBy: "connects=1").count - 1 == 1, "\(result.output)")
                #expect(result.output.components(separatedBy: "connects=0").count - 1 == 2, "\(result.output)")
            }
            #expect(server.server.failedHandshakes == 0)
        }
    }

    @Test("curl POSTs a body over TLS and the handler receives it whole")
    func curlPost() throws {
        try withServer { server in
            let result = server.curl(["/post"], ["--data-binary", "hello over tls"])
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output.contains("target=/post tls=true"), "\(result.output)")
            #expect(result.output.contains("body=hello over tls"), "\(result.output)")
        }
    }

    @Test("Python's ssl completes TLS 1.3 and TLS 1.2, negotiates http/1.1 and gets 200")
    func python() throws {
        try withServer { server in
            for version in ["TLSv1_3", "TLSv1_2"] {
                let result = server.python(
                    """
                    import socket, ssl
                    c = ssl.create_default_context(cafile=CA)
                    c.minimum_version = c.maximum_version = ssl.TLSVersion.\(version)
                    c.set_alpn_protocols(["http/1.1"])
                    s = c.wrap_socket(socket.create_connection(("127.0.0.1", PORT), timeout=10),
                                      server_hostname="portal.test")
                    s.sendall(b"GET /py HTTP/1.1\\r\\nHost: portal.test\\r\\nConnection: close\\r\\n\\r\\n")
                    data = b""
                    while True:
                        chunk = s.recv(65536)
                        if not chunk: break
                        data += chunk
                    print(s.version(), s.selected_alpn_protocol(), data.decode())
                    """)
                #expect(result.status == 0, "\(result.output)")
                let expected = version.replacingOccurrences(of: "_", with: ".") + " http/1.1 HTTP/1.1 200"
                #expect(result.output.hasPrefix(expected), "\(result.output)")
                #expect(result.output.contains("target=/py tls=true"), "\(result.output)")
            }
        }
    }

    @Test("openssl s_client: 1.3 and 1.2 succeed; 1.0, 1.1, CBC and non-ECDHE suites are refused and counted")
    func sClientTable() throws {
        try withServer { server in
            let table: [([String], Bool)] = [
                (["-tls1_3"], true),
                (["-tls1_2"], true),
                (["-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"], false),
                (["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"], false),
                (["-tls1_2", "-cipher", "AES128-SHA"], false),
                (["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0"], false),
                (["-tls1_2", "-cipher", "AES128-GCM-SHA256"], false),
            ]
            for (flags, succeeds) in table {
                let before = server.server.failedHandshakes
                let status = runTool(
                    "openssl",
                    ["s_client", "-connect", "127.0.0.1:\(server.port)", "-servername", "portal.test"]
                        + flags
                ).status
                #expect((status == 0) == succeeds, "\(flags)")
                if succeeds {
                    #expect(server.server.failedHandshakes == before, "\(flags)")
                } else {
                    // The refusal came from the server, which counted it.
                    #expect(server.waitForFailedHandshakes(before + 1), "\(flags)")
                }
            }
        }
    }

    @Test("mTLS required: the CA-signed client's subject and fingerprint reach the handler; foreign and none fail")
    func mutualRequired() throws {
        try withServer(.required) { server in
            let client = ["--cert", server.fixtures.clientCert, "--key", server.fixtures.clientKey]
            let signed = server.curl(["/who"], client)
            #expect(signed.status == 0, "\(signed.output)")
            #expect(signed.output.contains("subject=CN=client-1,O=Example"), "\(signed.output)")
            #expect(signed.output.contains("fingerprint=\(server.clientFingerprint) "), "\(signed.output)")
            let foreign = ["--cert", server.fixtures.foreignCert, "--key", server.fixtures.foreignKey]
            for (index, extra) in [foreign, []].enumerated() {
                #expect(server.curl(["/who"], extra).status != 0, "\(extra)")
                #expect(server.waitForFailedHandshakes(UInt64(index + 1)), "\(extra)")
            }
        }
    }

    @Test("mTLS optional: no certificate is let in with nil identity fields; a foreign one is refused")
    func mutualOptional() throws {
        try withServer(.optional) { server in
            let absent = server.curl(["/who"], [])
            #expect(absent.status == 0, "\(absent.output)")
            #expect(absent.output.contains("tls=true subject=none fingerprint=none"), "\(absent.output)")
            let foreign = server.curl(
                ["/who"], ["--cert", server.fixtures.foreignCert, "--key", server.fixtures.foreignKey])
            #expect(foreign.status != 0, "\(foreign.output)")
        }
    }
}
