import Config
import Crypto
import Foundation
import Gateway
import PortalCore

extension PortalRuntime {
    /// The key the gateway signs identities under for the data layer, and the data layer checks them with:
    /// `L01_IDENTITY_KEY`, or for `portal serve` without it a fresh key shared by the two halves of this process.
    /// Production refuses to run the halves apart without one.
    static func identityKey(_ settings: PortalSettings, parts: ServeCommand.Parts) throws -> SecretValue? {
        if let key = settings.auth.l01IdentityKey { return key }
        if parts == .all { return SecretValue(Digest.hex(SecureRandom.bytes(count: 32))) }
        guard settings.portalEnvironment == .development else {
            throw StartError(
                description: "L01_IDENTITY_KEY: is required when the gateway and the data layer run apart "
                    + "(PORTAL_ENV=production)")
        }
        return nil
    }

    /// Which upstreams get signed identities: the data layer under `L01_IDENTITY_KEY`, and every route whose
    /// `identity_key_file` names a key (at least 32 bytes).
    static func identityBindings(_ settings: PortalSettings) throws -> [IdentityKeyBinding] {
        var bindings: [IdentityKeyBinding] = []
        if let key = settings.auth.l01IdentityKey {
            let port = settings.dataLayerPort
            bindings.append(IdentityKeyBinding(host: settings.dataLayerHost, port: port, key: key.bytes))
            if settings.dataLayerHost == "0.0.0.0" || settings.dataLayerHost == "localhost" {
                bindings.append(IdentityKeyBinding(host: "127.0.0.1", port: port, key: key.bytes))
            }
        }
        for route in settings.routes.routes {
            guard let path = route.identityKeyFile else { continue }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw StartError(
                    description: "PORTAL_CONFIG: route \(route.prefix): cannot read identity_key_file", badSetting: true
                )
            }
            var key = Array(data)
            while key.last == UInt8(ascii: "\n") || key.last == UInt8(ascii: "\r") { key.removeLast() }
            guard key.count >= 32 else {
                throw StartError(
                    description: "PORTAL_CONFIG: route \(route.prefix): identity_key_file must hold at least 32 bytes")
            }
            bindings.append(IdentityKeyBinding(host: route.upstream.host, port: route.upstream.port, key: key))
        }
        return bindings
    }
}
