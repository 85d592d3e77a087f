import Auth
import Config
import Gateway
import PortalCore
import Store

/// `portal key create|rotate|revoke|list`: API keys of services, printed once and stored as keyed hashes.
enum KeyCommand {
    static let usage = """
        Usage: portal key create --name NAME [--scopes "a b"] [--roles "service"] [--expires 90d]
               portal key rotate ID|NAME [--grace 24h]
               portal key revoke ID|NAME
               portal key list

        create  prints the new key once on standard output: its public id (spk_ and 16 hex digits), then its
                secret. Only a keyed hash of the secret is stored (CREDENTIAL_HMAC_KEY). NAME is the consumer the
                key stands for (X-Consumer-ID); a service account of PORTAL_CONFIG (l01 ... l12 by default) gives
                its scopes and roles, and a key may not hold more than its account.
        rotate  prints a replacement key with the same name, scopes, roles and lifetime; the old key keeps working
                for the grace period (default API_KEY_ROTATION_GRACE_SECONDS, 24 h).
        revoke  stops a key (or every usable key of NAME) at once.
        list    shows ids, names, scopes and states, never secrets.
        A running gateway sees changes within CREDENTIAL_CACHE_REFRESH_SECONDS, and new keys at first use.
        """

    static func run(_ raw: [String]) throws -> Int32 {
        let args = try Arguments(raw, valued: ["name", "scopes", "roles", "expires", "grace"])
        if args.wantsHelp || args.positionals.isEmpty {
            PortalCLI.printOut(usage)
            return args.wantsHelp ? 0 : 2
        }
        let settings = try PortalSettings.load(from: Environment.load())
        let store = try CredentialSetup.store(settings)
        let hasher = try CredentialSetup.hasher(settings)
        let now = SystemClock().unixSeconds()
        try CredentialSetup.asPermitted(settings, "key") {
            try perform(args, settings: settings, store: store, hasher: hasher, now: now)
        }
        return 0
    }

    /// The subcommand `args` names, on `store`.
    private static func perform(
        _ args: Arguments, settings: PortalSettings, store: any CredentialStore, hasher: CredentialHasher, now: Int64
    ) throws {
        switch (args.positionals[0], args.positionals.count) {
        case ("create", 1):
            guard let name = args.options["name"] else { throw UsageError("--name is required") }
            let scopes = try args.options["scopes"].map(CommandLists.scopes)
            let roles = args.options["roles"].map { $0.split(separator: " ").map(String.init) }
            let lifetime = try args.options["expires"].map { try CommandLists.seconds($0, option: "expires") }
            let issued: APIKeyIssuer.Issued
            do {
                issued = try APIKeyIssuer.create(
                    name: name, scopes: scopes, roles: roles, lifetimeSeconds: lifetime, policy: settings.access,
                    hasher: hasher, now: now)
            } catch {
                throw UsageError("--\(error.description)")
            }
            try store.insertAPIKey(issued.record)
            announce(issued.key, issued.record)
        case ("rotate", 2):
            let grace = try args.options["grace"].map { try CommandLists.seconds($0, option: "grace") }
            let old = try usableKeys(args.positionals[1], store: store, now: now)
            guard old.count == 1, let previous = old.first else {
                throw UsageError("\(args.positionals[1]) names \(old.count) usable keys; rotate one by its id")
            }
            let issued = APIKeyIssuer.replacement(for: previous, hasher: hasher, now: now)
            let until = now + Int64(grace ?? settings.auth.apiKeyRotationGraceSeconds)
            guard try store.rotateAPIKey(id: previous.id, replacement: issued.record, graceUntil: until, at: now) else {
                throw UsageError("\(previous.id) is no longer usable")
            }
            announce(issued.key, issued.record)
            PortalCLI.printError("\(previous.id) keeps working for \(until - now) s, until \(time(until))")
        case ("revoke", 2):
            let keys = try usableKeys(args.positionals[1], store: store, now: now)
            guard !keys.isEmpty else { throw UsageError("no usable key \(args.positionals[1])") }
            for key in keys where try store.revokeAPIKey(id: key.id, at: now) {
                PortalCLI.printError("revoked \(key.id) (\(key.name))")
            }
        case ("list", 1):
            for key in try store.apiKeys() { PortalCLI.printOut(describe(key, now: now)) }
        default:
            throw UsageError("unknown key command; run `portal key --help`")
        }
    }

    /// The usable keys `reference` names: one by its id, or all of a name.
    private static func usableKeys(
        _ reference: String, store: any CredentialStore, now: Int64
    ) throws -> [APIKeyRecord] {
        if APIKeyFormat.isKeyID(reference) {
            return try store.apiKey(id: reference).map { $0.isUsable(at: now) ? [$0] : [] } ?? []
        }
        return try store.apiKeys().filter { $0.name == reference && $0.isUsable(at: now) }
    }

    /// Prints the key on standard output and what it is on standard error.
    private static func announce(_ text: String, _ record: APIKeyRecord) {
        PortalCLI.printOut(text)
        let expiry = record.expiresAt.map { "expires \(time($0))" } ?? "no expiry"
        PortalCLI.printError(
            "created \(record.id) for \(record.name) (scopes: \(record.scopes.joined(separator: " ")); roles: "
                + "\(record.roles.joined(separator: " ")); \(expiry)); it is not shown again")
    }

    private static func time(_ unixSeconds: Int64) -> String {
        String(RFC3339.format(unixMicroseconds: unixSeconds * 1_000_000).prefix(19)) + "Z"
    }

    private static func describe(_ key: APIKeyRecord, now: Int64) -> String {
        let state: String
        if key.revokedAt != nil {
            state = "revoked"
        } else if let end = key.expiresAt, now >= end {
            state = "expired"
        } else if let grace = key.graceUntil {
            state = now < grace ? "rotated, works until \(time(grace))" : "rotated out"
        } else {
            state = "active"
        }
        return "\(key.id) name=\(key.name) scopes=\(key.scopes.joined(separator: ",")) "
            + "roles=\(key.roles.joined(separator: ",")) created=\(time(key.createdAt)) (\(state))"
    }
}
