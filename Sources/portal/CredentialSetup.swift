import Auth
import Config
import Crypto
import Store

/// The credential store and keys shared by `portal serve` and the `portal user` / `portal key` commands, so that
/// both find the same file and hash secrets the same way.
enum CredentialSetup {
    /// `$PORTAL_DATA_DIR/credentials.db`.
    static func store(_ settings: PortalSettings) throws -> SQLiteCredentialStore {
        try DataDirectory.ensure(settings.portalDataDirectory)
        do {
            return try SQLiteCredentialStore(directory: settings.portalDataDirectory)
        } catch {
            throw SigningSecret.Failure(description: "PORTAL_DATA_DIR: cannot open the credential store: \(error)")
        }
    }

    /// `CREDENTIAL_HMAC_KEY(_FILE)`, or in development a key generated once into the data directory.
    static func hasher(_ settings: PortalSettings) throws -> CredentialHasher {
        if let key = settings.auth.credentialHMACKey { return CredentialHasher(key: key.bytes) }
        return CredentialHasher(
            key: try SigningSecret.generatedFile("credential_hmac_key", in: settings.portalDataDirectory))
    }

    /// Production refuses to start while an enabled account has a weak or default password: one flagged when it
    /// was set, or one that a default (its own name, `admin`, the guide's examples) verifies against.
    static func refuseWeakUsers(_ store: any CredentialStore, hasher: PasswordHasher = PasswordHasher()) throws {
        for user in try store.users() where !user.disabled {
            let weak =
                user.weakPassword
                || PasswordPolicy.candidates(for: user.username).contains {
                    hasher.verify($0, against: user.passwordHash)
                }
            if weak {
                throw SigningSecret.Failure(
                    description: "users: \(user.username) has a weak or default password; set another with "
                        + "`portal user passwd \(user.username)` or disable it (PORTAL_ENV=production)")
            }
        }
    }
}
