/// Settings of the audit trail's integrity: the chain key and the checkpoint signing key.
///
/// Read by `AuditSettings.load(from:production:)`; every key is documented there and in README.md.
public struct AuditSettings: Sendable {
    /// `AUDIT_HMAC_KEY(_FILE)`: the HMAC-SHA256 key that seals each record into the chain, at least 32 bytes.
    /// nil only in development, where the product keeps a generated key in `$PORTAL_DATA_DIR/audit_hmac_key`.
    public var hmacKey: SecretValue?
    /// `AUDIT_SIGNING_KEY_FILE`: PEM private key (Ed25519, or ECDSA P-256/P-384) that signs checkpoints. nil only in
    /// development, where the product keeps a generated Ed25519 key in `$PORTAL_DATA_DIR/audit_signing_key.pem`.
    public var signingKeyFile: String?
    /// `AUDIT_CHECKPOINT_INTERVAL_SECONDS`, default 60: the least time between two signed checkpoints.
    public var checkpointIntervalSeconds: Int = 60
    /// `AUDIT_STORE_SINK`, default true: the gateway ships its audit file to the data layer's audit table.
    public var storeSink = true
    /// `AUDIT_FAIL_MODE`: what the gateway does while no audit sink can write durably. nil when unset: the
    /// settings loader then picks `closed` with `PORTAL_ENV=production` and `open` in development.
    public var failMode: AuditFailMode?
    /// `AUDIT_VERIFY_INTERVAL_SECONDS`, default 10: the pause between two rounds of the background verifier that
    /// checks each new record of the audit file (`audit_last_verified_seq`).
    public var verifyIntervalSeconds = 10
    /// `AUDIT_FILE_MAX_BYTES`, default 67 108 864 (64 MiB); 0 turns size rotation off: the audit file is retired
    /// (renamed, then zlib-compressed) once it holds this many bytes.
    public var fileMaxBytes = 67_108_864
    /// `AUDIT_FILE_MAX_AGE_SECONDS`, default 86 400 (a day); 0 turns age rotation off: the file is retired once the
    /// writer has been on it this long.
    public var fileMaxAgeSeconds = 86_400
    /// `AUDIT_RETENTION_DAYS`, default 0: keep every retired file; else delete retired files older than this.
    public var retentionDays = 0

    /// Every default.
    public init() {}

    /// Minimum length of `AUDIT_HMAC_KEY`, in bytes.
    public static let minimumHMACKeyBytes = 32

    /// Reads and checks the audit integrity settings; `requireProductionKeys()` adds production's demands.
    /// - Throws: `ConfigError` naming the variable.
    public static func load(from env: Environment) throws(ConfigError) -> AuditSettings {
        var settings = AuditSettings()
        settings.hmacKey = try env.secret("AUDIT_HMAC_KEY")
        if let key = settings.hmacKey, key.byteCount < minimumHMACKeyBytes {
            throw ConfigError.weakSecret("AUDIT_HMAC_KEY", reason: "must be at least \(minimumHMACKeyBytes) bytes")
        }
        if let file = try env.string("AUDIT_SIGNING_KEY_FILE") {
            guard !file.isEmpty, !file.contains("\0") else {
                throw ConfigError.invalidValue("AUDIT_SIGNING_KEY_FILE", expected: "a PEM file path", got: file)
            }
            settings.signingKeyFile = file
        }
        settings.checkpointIntervalSeconds = try env.int(
            "AUDIT_CHECKPOINT_INTERVAL_SECONDS", default: 60, range: 1...86_400)
        settings.storeSink = try env.bool("AUDIT_STORE_SINK", default: true)
        if try env.string("AUDIT_FAIL_MODE") != nil {
            settings.failMode = try env.enumeration("AUDIT_FAIL_MODE", default: AuditFailMode.closed)
        }
        settings.verifyIntervalSeconds = try env.int("AUDIT_VERIFY_INTERVAL_SECONDS", default: 10, range: 1...86_400)
        settings.fileMaxBytes = try env.int("AUDIT_FILE_MAX_BYTES", default: 67_108_864, range: 0...(1 << 40))
        settings.fileMaxAgeSeconds = try env.int("AUDIT_FILE_MAX_AGE_SECONDS", default: 86_400, range: 0...31_536_000)
        settings.retentionDays = try env.int("AUDIT_RETENTION_DAYS", default: 0, range: 0...36_500)
        return settings
    }

    /// With `PORTAL_ENV=production` both keys are required: a key generated beside the audit file protects it
    /// from nobody who can write there.
    /// - Throws: `ConfigError` naming the missing variable.
    public func requireProductionKeys() throws(ConfigError) {
        guard hmacKey != nil else {
            throw ConfigError.weakSecret("AUDIT_HMAC_KEY", reason: "is required: set AUDIT_HMAC_KEY or its _FILE")
        }
        guard signingKeyFile != nil else {
            throw ConfigError.missing("AUDIT_SIGNING_KEY_FILE", expected: "a PEM Ed25519 or ECDSA private key")
        }
    }
}

/// `AUDIT_FAIL_MODE`: serve or refuse while neither the audit file nor the store can write durably.
public enum AuditFailMode: String, Sendable, CaseIterable {
    /// Answer 503 (E9960) until a sink can write again: no request goes unrecorded. Production's default.
    case closed
    /// Serve on, counting `audit_sink_errors_total` and logging; records past the in-memory bounds are lost.
    case open
}
