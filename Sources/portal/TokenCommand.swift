import Auth
import Config
import PortalCore

/// `portal token issue --sub S --scope "a b" [--ttl SECONDS]`: prints one signed access token.
enum TokenCommand {
    static let usage = """
        Usage: portal token issue --sub SUBJECT [--scope "a b"] [--ttl SECONDS]

        Prints an HS256 access token signed with JWT_SECRET (or, in development without one,
        the secret kept in $PORTAL_DATA_DIR/jwt_secret, which `portal serve` uses too).

        Options:
          --sub SUBJECT    The token's subject (required).
          --scope SCOPES   Space-separated scopes, for example "events:read events:write".
          --ttl SECONDS    Lifetime in seconds; default JWT_EXPIRATION (3600).
        """

    static func run(_ raw: [String]) throws -> Int32 {
        let args = try Arguments(raw, valued: ["sub", "scope", "ttl"])
        if args.wantsHelp || args.positionals.isEmpty {
            PortalCLI.printOut(usage)
            return args.wantsHelp ? 0 : 2
        }
        guard args.positionals == ["issue"] else {
            throw UsageError("unknown token command; run `portal token --help`")
        }
        guard let subject = args.options["sub"], !subject.isEmpty else { throw UsageError("--sub is required") }

        let settings = try PortalSettings.load(from: Environment.load())
        let ttl: Int
        if let text = args.options["ttl"] {
            guard let value = Int(text), (1...31_536_000).contains(value) else {
                throw UsageError("--ttl: expected whole seconds from 1 to 31536000")
            }
            ttl = value
        } else {
            ttl = settings.jwtExpirationSeconds
        }
        let scopes = (args.options["scope"] ?? "").split(separator: " ").map(String.init)

        let secret = try SigningSecret.resolve(settings)
        let signer = try JWTSigner.hs256(secret: secret)
        let now = SystemClock().unixSeconds()
        let claims = JWTClaims(subject: subject, scopes: scopes, issuedAt: now, expiresAt: now + Int64(ttl))
        PortalCLI.printOut(try signer.sign(claims))
        return 0
    }
}
