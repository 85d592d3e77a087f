import Foundation
import Testing

@testable import Config

@Suite("Environment")
struct EnvironmentTests {
    private static func files(_ files: [String: String]) -> @Sendable (String) -> String? {
        { files[$0] }
    }

    @Test("a .env file fills gaps but never overrides the real environment")
    func dotEnvNeverOverrides() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent(".env").path
        try "LOG_LEVEL=debug\nGATEWAY_PORT=9999\n".write(toFile: path, atomically: true, encoding: .utf8)

        let env = try Environment.load(processEnvironment: ["GATEWAY_PORT": "8123"], dotEnvPath: path)
        #expect(env.variables["GATEWAY_PORT"] == "8123")
        #expect(env.variables["LOG_LEVEL"] == "debug")
    }

    @Test("a missing .env file is fine")
    func missingDotEnv() throws {
        let env = try Environment.load(processEnvironment: ["A": "1"], dotEnvPath: "/nonexistent/dir/.env")
        #expect(env.variables == ["A": "1"])
    }

    @Test("a malformed .env stops loading with its path and line")
    func malformedDotEnv() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("env-\(UUID().uuidString)").path
        try "A=1\nBROKEN\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            try Environment.load(processEnvironment: [:], dotEnvPath: path)
        } throws: { error in
            String(describing: error) == "\(path):2: expected KEY=VALUE"
        }
    }

    @Test(
        "a *_FILE twin supplies the secret with one trailing newline stripped",
        arguments: [
            ("s3cret\n", "s3cret"),
            ("s3cret", "s3cret"),
            ("s3cret\n\n", "s3cret\n"),
            ("s3cret\r\n", "s3cret"),
            ("  spaced  \n", "  spaced  "),
        ])
    func fileTwin(contents: String, expected: String) throws {
        let env = Environment(
            variables: ["JWT_SECRET_FILE": "/run/secrets/jwt"], readFile: Self.files(["/run/secrets/jwt": contents]))
        #expect(try env.value("JWT_SECRET") == expected)
    }

    @Test(
        "every secret suffix accepts a twin",
        arguments: ["JWT_SECRET", "REDIS_PASSWORD", "POSTGRES_PASSWORD", "GATEWAY_L01_API_KEY", "L01_API_KEYS"])
    func everySuffixAcceptsTwin(name: String) throws {
        let env = Environment(variables: [name + "_FILE": "/f"], readFile: Self.files(["/f": "v\n"]))
        #expect(try env.value(name) == "v")
    }

    @Test("a non-secret variable ignores a *_FILE twin")
    func nonSecretIgnoresTwin() throws {
        let env = Environment(variables: ["LOG_LEVEL_FILE": "/f"], readFile: Self.files(["/f": "debug"]))
        #expect(try env.value("LOG_LEVEL") == nil)
    }

    @Test("setting both a secret and its twin is an error naming both")
    func bothSet() {
        let env = Environment(
            variables: ["JWT_SECRET": "hunter2", "JWT_SECRET_FILE": "/f"], readFile: Self.files(["/f": "x"]))
        #expect {
            try env.value("JWT_SECRET")
        } throws: { error in
            let text = String(describing: error)
            return text.contains("JWT_SECRET and JWT_SECRET_FILE") && !text.contains("hunter2")
        }
    }

    @Test("an unreadable twin is an error naming the variable and path, not contents")
    func unreadableTwin() {
        let env = Environment(variables: ["REDIS_PASSWORD_FILE": "/no/such/file"], readFile: Self.files([:]))
        #expect {
            try env.value("REDIS_PASSWORD")
        } throws: { error in
            String(describing: error) == #"REDIS_PASSWORD_FILE: cannot read the file "/no/such/file""#
        }
    }

    @Test("the real file reader reads from disk")
    func readsDisk() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sec-\(UUID().uuidString)").path
        try "from-disk\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let env = Environment(variables: ["JWT_SECRET_FILE": path])
        #expect(try env.value("JWT_SECRET") == "from-disk")
        #expect(Environment.readFileFromDisk("/no/such/file") == nil)
    }
}
