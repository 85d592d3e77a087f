import Auth
import Config
import PortalCore
import Store

#if canImport(Glibc)
    import Glibc
#endif

/// `portal user add|passwd|disable|enable|list`: people who log in at `POST /auth/token`.
enum UserCommand {
    static let usage = """
        Usage: portal user add NAME [--roles "developer"] [--scopes "a b"]
               portal user passwd NAME
               portal user disable NAME | portal user enable NAME
               portal user list

        Users live in the credential store: PostgreSQL (schema mcp_documents) when DATABASE_URL or POSTGRES_HOST
        is set, shared by every gateway on it (run this with the owner's URL: the gateway's role only reads
        users), else $PORTAL_DATA_DIR/credentials.db. Passwords are kept as argon2id hashes (OWASP costs).
        A password is read from standard input (its first line), never from the command line; at a terminal it
        is asked for twice without echo. A password under 12 characters, equal to the name, or a default or
        example value is refused with PORTAL_ENV=production and accepted with a warning in development, where
        production start-up will then refuse it.

        Options:
          --roles ROLES    Space-separated roles (admin, developer, viewer, service or PORTAL_CONFIG's); default viewer.
          --scopes SCOPES  Space-separated scopes beyond those the roles grant; default none.
        """

    static func run(_ raw: [String]) throws -> Int32 {
        let args = try Arguments(raw, valued: ["roles", "scopes"])
        if args.wantsHelp || args.positionals.isEmpty {
            PortalCLI.printOut(usage)
            return args.wantsHelp ? 0 : 2
        }
        let settings = try PortalSettings.load(from: Environment.load())
        let store = try CredentialSetup.store(settings)
        let now = SystemClock().unixSeconds()
        try CredentialSetup.asPermitted(settings, "user") {
            try perform(args, settings: settings, store: store, now: now)
        }
        return 0
    }

    /// The subcommand `args` names, on `store`.
    private static func perform(
        _ args: Arguments, settings: PortalSettings, store: any CredentialStore, now: Int64
    ) throws {
        switch (args.positionals[0], args.positionals.count) {
        case ("list", 1):
            for user in try store.users() {
                let state = user.disabled ? "disabled" : (user.weakPassword ? "active, weak password" : "active")
                let scopes = user.scopes.isEmpty ? "" : " scopes=\(user.scopes.joined(separator: ","))"
                PortalCLI.printOut("\(user.username) roles=\(user.roles.joined(separator: ","))\(scopes) (\(state))")
            }
        case ("add", 2):
            let name = try checkedName(args.positionals[1])
            let roles = try CommandLists.roles(args.options["roles"] ?? "viewer", policy: settings.access)
            let scopes = try CommandLists.scopes(args.options["scopes"] ?? "")
            let (hash, weak) = try newPassword(for: name, settings: settings)
            do {
                try store.createUser(
                    UserRecord(
                        username: name, passwordHash: hash, roles: roles, scopes: scopes, weakPassword: weak,
                        createdAt: now))
            } catch let error as StoreError where error.isConflict {
                throw UsageError("user \(name) exists; use `portal user passwd \(name)`")
            }
            PortalCLI.printError("added user \(name) (roles: \(roles.joined(separator: " ")))")
        case ("passwd", 2):
            let name = args.positionals[1]
            guard try store.user(named: name) != nil else { throw UsageError("no user \(name)") }
            let (hash, weak) = try newPassword(for: name, settings: settings)
            _ = try store.updatePassword(username: name, passwordHash: hash, weakPassword: weak, at: now)
            PortalCLI.printError("changed the password of \(name); its earlier sessions end")
        case ("disable", 2), ("enable", 2):
            let name = args.positionals[1]
            let disable = args.positionals[0] == "disable"
            guard try store.setUserDisabled(username: name, disabled: disable, at: now) else {
                throw UsageError("no user \(name)")
            }
            PortalCLI.printError("\(disable ? "disabled" : "enabled") user \(name)")
        default:
            throw UsageError("unknown user command; run `portal user --help`")
        }
    }

    /// 1 to 64 of `A-Z a-z 0-9 . _ @ -` (`UserRecord.isValidUsername`).
    static func checkedName(_ name: String) throws -> String {
        guard UserRecord.isValidUsername(name) else {
            throw UsageError("a user name is 1 to 64 of A-Z a-z 0-9 . _ @ -")
        }
        return name
    }

    /// Reads a password, checks it against the policy, and hashes it.
    private static func newPassword(for name: String, settings: PortalSettings) throws -> (String, Bool) {
        let password = try PasswordInput.read()
        guard !password.isEmpty else { throw UsageError("no password on standard input") }
        var weak = false
        if let weakness = PasswordPolicy.weakness(of: password, username: name) {
            guard settings.portalEnvironment == .development else {
                throw UsageError("the password \(weakness) (PORTAL_ENV=production)")
            }
            weak = true
            PortalCLI.printError(
                "warning: the password \(weakness); PORTAL_ENV=production will refuse to start while it is set")
        }
        return (PasswordHasher().hash(password), weak)
    }
}

/// Reads a password from standard input: the first line, or twice without echo at a terminal.
enum PasswordInput {
    static func read() throws -> String {
        guard isatty(0) == 1 else { return readLine(strippingNewline: true) ?? "" }
        var saved = termios()
        tcgetattr(0, &saved)
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(0, TCSAFLUSH, &quiet)
        defer {
            tcsetattr(0, TCSAFLUSH, &saved)
            PortalCLI.printError("")
        }
        PortalCLI.writeError("Password: ")
        let first = readLine(strippingNewline: true) ?? ""
        PortalCLI.writeError("\nAgain: ")
        guard readLine(strippingNewline: true) == first else { throw UsageError("the passwords differ") }
        return first
    }
}

/// Role and scope lists given on the command line.
enum CommandLists {
    /// Space-separated role names, each known to the access policy.
    static func roles(_ text: String, policy: AccessPolicy) throws -> [String] {
        let roles = text.split(separator: " ").map(String.init)
        for role in roles where policy.roles[role] == nil {
            let known = policy.roles.keys.sorted().joined(separator: ", ")
            throw UsageError("--roles: unknown role \(role) (known: \(known))")
        }
        return roles
    }

    /// Space-separated scope tokens (visible ASCII without quotes or backslashes).
    static func scopes(_ text: String) throws -> [String] {
        let scopes = text.split(separator: " ").map(String.init)
        for scope in scopes where !scope.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != 0x22 && $0 != 0x5C }) {
            throw UsageError("--scopes: \(scope) is not a scope token")
        }
        return scopes
    }

    /// A duration: digits followed by `d`, `h`, `m` or `s` (or none: seconds), at most ten years.
    static func seconds(_ text: String, option: String) throws -> Int {
        let units: [Character: Int] = ["d": 86_400, "h": 3_600, "m": 60, "s": 1]
        let unit = text.last.flatMap { units[$0] } ?? 1
        let digits = units[text.last ?? " "] == nil ? Substring(text) : text.dropLast()
        guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
            let value = Int(digits), value * unit <= 315_360_000
        else { throw UsageError("--\(option): expected a duration such as 90d, 12h, 30m or 3600") }
        return value * unit
    }
}
