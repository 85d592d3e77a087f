import Foundation
import Config
import Store

/// The master keys that encrypt events at rest, shared by `portal serve` / `data-layer`, `portal erase` and
/// `portal master-key rotate`, so that all of them open the same data keys.
enum MasterKeySetup {
    /// What `portal erase` and `portal master-key rotate` read: the environment, the data directory, the master
    /// keys and PostgreSQL; none of the gateway's settings.
    static func storeSettings(_ env: Environment) throws -> PortalSettings {
        var settings = PortalSettings()
        settings.portalEnvironment = try env.enumeration("PORTAL_ENV", default: PortalEnvironment.development)
        settings.portalDataDirectory = try env.string("PORTAL_DATA_DIR").flatMap { $0.isEmpty ? nil : $0 } ?? "./data"
        settings.portalMasterKey = try PortalSettings.masterKey("PORTAL_MASTER_KEY", from: env)
        settings.portalMasterKeyPrevious = try PortalSettings.masterKey("PORTAL_MASTER_KEY_PREVIOUS", from: env)
        settings.postgres = try PostgresSettings.load(from: env)
        if settings.portalEnvironment == .production { try settings.postgres?.requireProductionTLS() }
        return settings
    }

    /// `PORTAL_MASTER_KEY(_FILE)`; in development without it, a key generated once into
    /// `$PORTAL_DATA_DIR/master_key` (mode 0600). Production refuses to go on without the setting. With
    /// `PORTAL_MASTER_KEY_PREVIOUS(_FILE)` too, the key being rotated away from, which must be another key.
    /// - Parameter creating: whether a missing development key may be generated; `portal erase` passes false,
    ///   since a fresh key would find none of the subject's data keys.
    /// - Returns: the encryption, and the path of the development key when this call generated it (for the
    ///   caller to name once start-up has succeeded, so that a failed start still prints one line only).
    static func encryption(
        _ settings: PortalSettings, creating: Bool = true
    ) throws -> (encryption: EventEncryption, generatedPath: String?) {
        let previous = try settings.portalMasterKeyPrevious.map { try key($0, "PORTAL_MASTER_KEY_PREVIOUS") }
        if let configured = settings.portalMasterKey {
            return (try combine(try key(configured, "PORTAL_MASTER_KEY"), previous), nil)
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
        return (try combine(key, previous), existed ? nil : path)
    }

    /// The master key of the setting `variable`, refused in one line naming it when too short.
    private static func key(_ configured: SecretValue, _ variable: String) throws -> MasterKey {
        guard let key = MasterKey(secret: configured.bytes) else {
            throw SigningSecret.Failure(description: "\(variable): must be at least 32 bytes", badSetting: true)
        }
        return key
    }

    /// The current and previous keys together; the same key twice is a mistake in the settings (the previous
    /// key is the one rotated away from, never the new one). Compared by their derived public ids.
    private static func combine(_ current: MasterKey, _ previous: MasterKey?) throws -> EventEncryption {
        if let previous, previous.id == current.id {
            throw SigningSecret.Failure(
                description: "PORTAL_MASTER_KEY_PREVIOUS: must differ from PORTAL_MASTER_KEY: it is the key being "
                    + "rotated away from", badSetting: true)
        }
        return EventEncryption(masterKey: current, previous: previous)
    }

    /// Refuses a store that holds live keys of a master key that is neither the current nor the previous one (a
    /// backup restored elsewhere, a key file lost or swapped, a new key set without the old one as previous):
    /// every sealed read of them would fail, and an erasure would not find its subject. The refusal names the
    /// setting to change (exit status 2). A development key this start generated is removed again, so that the
    /// next start does not find it.
    static func refuseForeignDataKeys(
        _ store: any EventStore, encryption: EventEncryption, generatedPath: String?
    ) throws {
        let inUse: Set<String>
        do {
            inUse = try store.masterKeyIDsInUse()
        } catch {
            throw SigningSecret.Failure(description: "PORTAL_MASTER_KEY: cannot read the store's data keys: \(error)")
        }
        let unknown = inUse.subtracting(encryption.masterKeyIDs)
        guard !unknown.isEmpty else { return }
        if let generatedPath { try? FileManager.default.removeItem(atPath: generatedPath) }
        // Master-key ids are public (derived one way, stored beside every wrapped key); naming them helps tell
        // keys apart.
        let ids = "master key id " + unknown.sorted().joined(separator: ", ")
        guard encryption.previousMasterKey == nil else {
            throw SigningSecret.Failure(
                description: "PORTAL_MASTER_KEY_PREVIOUS: the store's data keys are wrapped by a master key that is "
                    + "neither PORTAL_MASTER_KEY nor PORTAL_MASTER_KEY_PREVIOUS (\(ids)); set "
                    + "PORTAL_MASTER_KEY_PREVIOUS to the key they were written with", badSetting: true)
        }
        throw SigningSecret.Failure(
            description: "PORTAL_MASTER_KEY: the store's data keys are wrapped by another master key (\(ids)); set "
                + "PORTAL_MASTER_KEY to the key they were written with (after a restore: the source's key), or, to "
                + "rotate to this key, set PORTAL_MASTER_KEY_PREVIOUS to that key and run `portal master-key rotate`",
            badSetting: true)
    }
}
