import Config
import Foundation
import Testing

@Suite("WRITE_TIMEOUT_SECONDS")
struct WriteTimeoutSettingTests {
    private func load(_ variables: [String: String]) throws -> PortalSettings {
        try PortalSettings.load(
            from: Environment(variables: variables, readFile: { _ in nil }), readConfigFile: { _ in nil })
    }

    @Test("defaults to 30 seconds, takes fractions, and refuses zero or garbage in one line naming it")
    func writeTimeout() throws {
        #expect(try load([:]).writeTimeoutSeconds == 30)
        #expect(try load(["WRITE_TIMEOUT_SECONDS": "2.5"]).writeTimeoutSeconds == 2.5)
        for bad in ["0", "soon", "-1"] {
            #expect {
                try load(["WRITE_TIMEOUT_SECONDS": bad])
            } throws: { error in
                String(describing: error).hasPrefix("WRITE_TIMEOUT_SECONDS: expected")
            }
        }
    }
}
