import Config
import Gateway
import Telemetry

extension PortalRuntime {
    /// Starts purging the gateway's credential store of expired refresh tokens and revocations: first
    /// `CredentialPurger.defaultFirstDelaySeconds` after start, then every `CREDENTIAL_PURGE_INTERVAL_SECONDS`,
    /// keeping revocations for `JWT_LEEWAY` past their token's `exp`. Nil without a credential store.
    static func startCredentialPurger(
        settings: PortalSettings, credentials: CredentialCache?, registry: MetricsRegistry, logger: Logger
    ) -> CredentialPurger? {
        guard let credentials else { return nil }
        let purger = CredentialPurger(
            store: credentials.store, intervalSeconds: Double(settings.auth.credentialPurgeIntervalSeconds),
            leewaySeconds: Int64(settings.auth.jwtLeewaySeconds), clock: credentials.clock, logger: logger,
            registry: registry)
        purger.start()
        return purger
    }
}
