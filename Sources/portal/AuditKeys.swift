import Audit
import Config
import Crypto
import Foundation
import PortalCore

/// Finds the audit chain key and the checkpoint signer: from `AUDIT_HMAC_KEY(_FILE)` and `AUDIT_SIGNING_KEY_FILE`,
/// or in development from keys generated once into `$PORTAL_DATA_DIR` (`audit_hmac_key`, `audit_signing_key.pem`,
/// mode 0600), so that `portal serve` and `portal audit verify` agree. Production never gets here without both:
/// settings refuse to load.
enum AuditKeys {
    /// The chain key.
    static func chainKey(_ settings: PortalSettings) throws -> HMACKey {
        if let key = settings.audit.hmacKey { return HMACKey(secret: key.bytes) }
        return HMACKey(secret: try SigningSecret.generatedFile("audit_hmac_key", in: settings.portalDataDirectory))
    }

    /// The checkpoint signer.
    static func signer(_ settings: PortalSettings) throws -> AuditCheckpointSigner {
        let pem: String
        let variable: String
        if let path = settings.audit.signingKeyFile {
            variable = "AUDIT_SIGNING_KEY_FILE"
            guard let data = FileManager.default.contents(atPath: path) else {
                throw SigningSecret.Failure(description: "\(variable): cannot read \(path)", badSetting: true)
            }
            pem = String(decoding: data, as: UTF8.self)
        } else {
            variable = "PORTAL_DATA_DIR"
            try DataDirectory.ensure(settings.portalDataDirectory)
            let path = settings.portalDataDirectory + "/audit_signing_key.pem"
            if let data = FileManager.default.contents(atPath: path) {
                pem = String(decoding: data, as: UTF8.self)
            } else {
                pem = try PrivateKey.generate(.ed25519).pemRepresentation()
                try SigningSecret.writeSecretFile(path, Array(pem.utf8))
            }
        }
        do {
            return try AuditCheckpointSigner(privateKey: PrivateKey(pem: pem))
        } catch let error as AuditKeyError {
            throw SigningSecret.Failure(description: "\(variable): \(error.reason)", badSetting: true)
        } catch {
            throw SigningSecret.Failure(
                description: "\(variable): not an unencrypted PEM private key", badSetting: true)
        }
    }
}
