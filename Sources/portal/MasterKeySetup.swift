import Foundation
import Config
import Store

/// The master key that encrypts events at rest, shared by `portal serve` / `data-layer` and `portal erase` so
/// that both open the same data keys.
enum MasterKeySetup {
    /// `PORTAL_MASTER_KEY(_FILE)`; in development without it, a key generated once into
    /// `$PORTAL_DATA_DIR/master_key` (mode 0600). Production refuses to go on without the setting.
    /// - Parameter creating: whether a missing development key may be generated; `portal erase` passes false,
    ///   since a fresh key would find none of the subject's data keys.
    /// - Returns: the encryption, and the path of the development key when this call generated it (for the
    ///   caller to name once start-up has succeeded, so that a failed start still prints one line only).
    static func encryption(
        _ settings: PortalSettings, creating: Bool = true
    ) throws -> (encryption: EventEncryption, generatedPath: String?) {
        if let configured = settings.portalMasterKey {
            guard let key = MasterKey(secret: configured.bytes) else {
                throw SigningSecret.Failure(
                    description: "PORTAL_MASTER_KEY: must be at least 32 bytes", badSetting: true)
            }
            return (EventEncryption(masterKey: key), nil)
        }
        guard settings.portalEnvironment == .development else {
            throw SigningSecret.Failure(
                description: "PORTAL_MASTER_KEY: is required to encrypt events at rest (PORTAL_ENV=production): "
                    + "set PORTAL_MASTER_KEY or PORTAL_MASTER_KEY_FILE (openssl rand -base64 32)")
        }
        let path = settings.portalDataDirectory + "/master_key"
        let existed = FilePath.exists(path)
        if !existed && !creating {
            throw SigningSecret.Failure(
                description: "PORTAL_MASTER_KEY: is not set and \(path) does not exist; set PORTAL_MASTER_KEY_FILE "
                    + "to the key the data layer uses")
        }
        let secret = try SigningSecret.generatedFile("master_key", in: settings.portalDataDirectory)
        guard let key = MasterKey(secret: secret) else {
            throw SigningSecret.Failure(
                description: "PORTAL_MASTER_KEY: \(path) holds fewer than 32 bytes", badSetting: true)
        }
        return (EventEncryption(masterKey: key), existed ? nil : path)
    }

    /// Refuses to serve a store whose live data keys another master key wrapped (a backup restored elsewhere, a
    /// key file lost or swapped): every sealed read would fail. A development key this start generated is removed
    /// again, so that the next start does not find it.
    static func refuseForeignDataKeys(
        _ store: any EventStore, encryption: EventEncryption, generatedPath: String?
    ) throws {
        let inUse: Set<String>
        do {
            inUse = try store.masterKeyIDsInUse()
        } catch {
            throw SigningSecret.Failure(description: "PORTAL_MASTER_KEY: cannot read the store's data keys: \(error)")
        }
        guard !inUse.subtracting([encryption.masterKey.id]).isEmpty else { return }
        if let generatedPath { try? FileManager.default.removeItem(atPath: generatedPath) }
        throw SigningSecret.Failure(
            description: "PORTAL_MASTER_KEY: the store's events were sealed under another master key; set "
                + "PORTAL_MASTER_KEY or PORTAL_MASTER_KEY_FILE to the key they were written with (after a restore: "
                + "the source's key)")
    }
}
