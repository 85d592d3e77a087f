import Config
import Foundation
import FuzzSupport

/// Fuzzes the configuration readers. The first input byte picks the reader; the rest is its text:
/// - 0: `RouteTable(json:)`, the `PORTAL_CONFIG` file; a table it accepts must match its own prefixes;
/// - 1: a `.env` file through `Environment.load`, then `PortalSettings.load` over the result;
/// - 2: `CIDRList(parsing:)`, `TRUSTED_PROXIES`, then membership of a few addresses;
/// - 3: `UpstreamURL(parsing:variable:)`;
/// - 4: `IPAddress.parse`, which must agree with `IPAddress(_:)` on the same text.
/// Errors are expected; crashes, hangs and broken properties are findings.
enum ConfigHarness {
    static let probes = ["127.0.0.1", "10.1.2.3", "::1", "2001:db8::1", "::ffff:192.168.0.1", "0.0.0.0"]

    static func run(_ input: UnsafeRawBufferPointer) {
        guard let mode = input.first else { return }
        let rest = UnsafeRawBufferPointer(rebasing: input.dropFirst())
        let text = String(decoding: rest, as: UTF8.self)
        switch mode % 5 {
        case 0: routeTable(Data(rest))
        case 1: dotEnv(text)
        case 2: cidrList(text)
        case 3: _ = try? UpstreamURL(parsing: text, variable: "DATA_LAYER_URL")
        default: ipAddress(rest, text)
        }
    }

    static func routeTable(_ data: Data) {
        guard let table = try? RouteTable(json: data) else { return }
        FuzzCheck.expect(!table.routes.isEmpty, "an accepted route table has no routes")
        for route in table.routes {
            FuzzCheck.expect(table.match(path: route.prefix) != nil, "a route does not match its own prefix")
        }
    }

    static func dotEnv(_ text: String) {
        // `/dev/null` exists, so `load` reads the "file", which the closure answers with the fuzz text.
        let environment = try? Environment.load(
            processEnvironment: [:], dotEnvPath: "/dev/null", readFile: { _ in text })
        guard let environment else { return }
        _ = try? PortalSettings.load(from: environment, readConfigFile: { _ in Data(text.utf8) })
    }

    static func cidrList(_ text: String) {
        guard let list = try? CIDRList(parsing: text) else { return }
        for probe in probes {
            let byText = list.contains(ipText: probe)
            FuzzCheck.expect(byText == IPAddress(probe).map(list.contains) ?? false, "CIDR membership differs")
        }
    }

    static func ipAddress(_ bytes: UnsafeRawBufferPointer, _ text: String) {
        let parsed = IPAddress.parse(bytes)
        if String(validating: Array(bytes), as: UTF8.self) != nil {
            FuzzCheck.expect(parsed == IPAddress(text), "IPAddress.parse and IPAddress(_:) differ")
        }
    }
}

/// libFuzzer in a fuzzing build, a replay of the argument files otherwise (see `FuzzEntry`).
@main
enum FuzzConfigMain {
    static func main() {
        FuzzEntry.main(ConfigHarness.run)
    }
}
