import COpenSSL
import Foundation
import Net

#if canImport(Glibc)
    import Glibc
#endif

// Test-only TLS support (no tests of its own): certificate fixtures and an OpenSSL client over memory buffers.

/// Certificates for TLS tests, made once per process in a temporary directory.
struct TLSFixtures: Sendable {
    let directory: String
    var serverCert: String { directory + "/server/cert.pem" }
    var serverKey: String { directory + "/server/key.pem" }
    var caCert: String { directory + "/ca.pem" }
    var clientCert: String { directory + "/client.pem" }
    var clientKey: String { directory + "/client.key" }
    var foreignCert: String { directory + "/foreign.pem" }
    var foreignKey: String { directory + "/foreign.key" }

    static let shared: TLSFixtures = make()

    private static func make() -> TLSFixtures {
        let directory = NSTemporaryDirectory() + "portal-tls-\(getpid())"
        let fixtures = TLSFixtures(directory: directory)
        try? FileManager.default.createDirectory(atPath: directory + "/server", withIntermediateDirectories: true)
        // The server pair comes from the product's own generator, so every TLS test exercises it too.
        if let made = try? SelfSignedCertificate(host: "portal.test", days: 2) {
            _ = FileManager.default.createFile(atPath: fixtures.serverCert, contents: Data(made.certificatePEM))
            _ = FileManager.default.createFile(
                atPath: fixtures.serverKey, contents: Data(made.privateKeyPEM), attributes: [.posixPermissions: 0o600])
        }
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        _ = runTool(
            "openssl",
            ["req", "-x509"] + ec + ["-subj", "/CN=Test CA", "-days", "2"]
                + ["-keyout", directory + "/ca.key", "-out", fixtures.caCert], in: directory)
        _ = runTool(
            "openssl",
            ["req"] + ec + ["-subj", "/O=Example/CN=client-1"]
                + ["-keyout", fixtures.clientKey, "-out", directory + "/client.csr"], in: directory)
        _ = runTool(
            "openssl",
            ["x509", "-req", "-in", directory + "/client.csr", "-CA", fixtures.caCert]
                + ["-CAkey", directory + "/ca.key", "-CAcreateserial", "-days", "2", "-out", fixtures.clientCert],
            in: directory)
        _ = runTool(
            "openssl",
            ["req", "-x509"] + ec + ["-subj", "/CN=intruder", "-days", "2"]
                + ["-keyout", fixtures.foreignKey, "-out", fixtures.foreignCert], in: directory)
        return fixtures
    }

    /// The SHA-256 fingerprint of a PEM certificate as `openssl x509 -fingerprint` prints it, lowercased.
    static func fingerprint(of path: String) -> String {
        let output = runTool("openssl", ["x509", "-in", path, "-noout", "-fingerprint", "-sha256"]).output
        let hex = output.split(separator: "=").last.map(String.init) ?? ""
        return hex.replacingOccurrences(of: ":", with: "").trimmingCharacters(in: .whitespacesAndNewlines)
            .lowercased()
    }
}

/// Runs a tool found on PATH, with stdin empty; returns its exit status and combined output.
@discardableResult
func runTool(_ tool: String, _ arguments: [String], in directory: String? = nil) -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [tool] + arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    process.standardInput = FileHandle.nullDevice
    do { try process.run() } catch { return (-1, "\(error)") }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// An OpenSSL client over memory buffers, paired in-process with a server `TLSSession`.
final class MemoryTLSClient {
    let context: OpaquePointer
    let ssl: OpaquePointer
    let readBIO: OpaquePointer
    let writeBIO: OpaquePointer

    /// - Parameters:
    ///   - versions: min and max protocol version, e.g. `TLS1_2_VERSION`.
    ///   - cipherList: TLS 1.2 cipher list; security level 0 so the client itself refuses nothing.
    ///   - certificate: client certificate and key paths, for mTLS.
    init(
        versions: (Int32, Int32) = (TLS1_2_VERSION, TLS1_3_VERSION), cipherList: String = "ALL:@SECLEVEL=0",
        certificate: (cert: String, key: String)? = nil, alpn: [UInt8]? = Array("\u{8}http/1.1".utf8),
        serverName: String? = "portal.test"
    ) {
        context = SSL_CTX_new(TLS_client_method())!
        _ = portal_SSL_CTX_set_proto_versions(context, versions.0, versions.1)
        _ = SSL_CTX_set_cipher_list(context, cipherList)
        if let certificate {
            _ = SSL_CTX_use_certificate_file(context, certificate.cert, SSL_FILETYPE_PEM)
            _ = SSL_CTX_use_PrivateKey_file(context, certificate.key, SSL_FILETYPE_PEM)
        }
        if let alpn { _ = SSL_CTX_set_alpn_protos(context, alpn, UInt32(alpn.count)) }
        ssl = SSL_new(context)!
        readBIO = BIO_new(BIO_s_mem())!
        writeBIO = BIO_new(BIO_s_mem())!
        SSL_set_bio(ssl, readBIO, writeBIO)
        if let serverName { _ = portal_SSL_set_tlsext_host_name(ssl, serverName) }
        SSL_set_connect_state(ssl)
    }

    deinit {
        SSL_free(ssl)
        SSL_CTX_free(context)
    }

    func take() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(BIO_ctrl_pending(writeBIO)))
        if !out.isEmpty { _ = out.withUnsafeMutableBytes { BIO_read(writeBIO, $0.baseAddress, Int32($0.count)) } }
        return out
    }

    func feed(_ bytes: [UInt8]) {
        if !bytes.isEmpty { _ = bytes.withUnsafeBytes { BIO_write(readBIO, $0.baseAddress, Int32($0.count)) } }
    }

    /// Runs both handshakes to the end; returns whether the client finished and the server's final state.
    func handshake(with server: TLSSession) -> (clientDone: Bool, server: TLSSession.State) {
        var clientDone = false
        for _ in 0..<20 {
            if !clientDone {
                let result = SSL_do_handshake(ssl)
                if result == 1 {
                    clientDone = true
                } else if SSL_get_error(ssl, result) != SSL_ERROR_WANT_READ {
                    ERR_clear_error(); break
                }
            }
            server.feedCiphertext(take())
            let state = server.advanceHandshake()
            feed(server.takeCiphertextToSend())
            if clientDone, state != .handshaking { break }
            if case .failed = state { break }
        }
        // TLS 1.3 servers may judge the client's certificate after the client thinks it is done.
        _ = SSL_read(ssl, nil, 0)
        ERR_clear_error()
        return (clientDone, server.state)
    }

    func write(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        _ = SSL_write(ssl, bytes, Int32(bytes.count))
        return take()
    }

    func read() -> String {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        let n = SSL_read(ssl, &buffer, Int32(buffer.count))
        ERR_clear_error()
        return n > 0 ? String(decoding: buffer[..<Int(n)], as: UTF8.self) : ""
    }
}
