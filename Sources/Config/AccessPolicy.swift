/// Who may do what, beside the route table: roles and the scopes they expand to, the service accounts of the
/// platform's layers, and which verified client certificates stand for which service account.
///
/// From the `roles` and `service_accounts` members of `PORTAL_CONFIG` (see `AccessPolicy(json:)`), over defaults:
/// roles `admin` (every scope), `developer` (`events:read`, `events:write`), `viewer` (`events:read`) and
/// `service` (none of its own: a service account holds its scopes itself); service accounts `l01` to `l12`,
/// one per layer, each with role `service` and scope `events:read`, and no certificate.
public struct AccessPolicy: Sendable {
    /// One layer's (or other service's) identity: the consumer id upstreams see, its roles and scopes, and the
    /// client certificates that authenticate it.
    public struct ServiceAccount: Sendable, Hashable {
        /// The consumer id, e.g. `l03`.
        public var id: String
        public var roles: [String]
        public var scopes: [String]
        /// Lower-case hex SHA-256 fingerprints (64 digits) of certificates that stand for this account.
        public var certificateFingerprints: [String]
        /// RFC 2253 subjects (exactly as the TLS layer reports them) of certificates that stand for this account.
        public var certificateSubjects: [String]

        public init(
            id: String, roles: [String] = ["service"], scopes: [String], certificateFingerprints: [String] = [],
            certificateSubjects: [String] = []
        ) {
            self.id = id
            self.roles = roles
            self.scopes = scopes
            self.certificateFingerprints = certificateFingerprints
            self.certificateSubjects = certificateSubjects
        }
    }

    /// The scope that, in a role's list, stands for every scope.
    public static let everyScope = "*"

    /// Role name → the scopes it grants.
    public let roles: [String: [String]]
    /// Account id → account.
    public let serviceAccounts: [String: ServiceAccount]
    private let byFingerprint: [String: String]
    private let bySubject: [String: String]

    /// A policy from parts; a certificate named by two accounts goes to the one whose id sorts first.
    public init(roles: [String: [String]], serviceAccounts: [ServiceAccount]) {
        self.roles = roles
        var accounts: [String: ServiceAccount] = [:]
        var byFingerprint: [String: String] = [:]
        var bySubject: [String: String] = [:]
        for account in serviceAccounts.sorted(by: { $0.id < $1.id }) {
            accounts[account.id] = account
            for print in account.certificateFingerprints where byFingerprint[print] == nil {
                byFingerprint[print] = account.id
            }
            for subject in account.certificateSubjects where bySubject[subject] == nil {
                bySubject[subject] = account.id
            }
        }
        self.serviceAccounts = accounts
        self.byFingerprint = byFingerprint
        self.bySubject = bySubject
    }

    /// The default roles: admin, developer, viewer, service.
    public static let defaultRoles: [String: [String]] = [
        "admin": [everyScope], "developer": ["events:read", "events:write"], "viewer": ["events:read"], "service": [],
    ]

    /// The default service accounts `l01` … `l12`.
    public static var defaultServiceAccounts: [ServiceAccount] {
        (1...12).map { ServiceAccount(id: layerID($0), scopes: ["events:read"]) }
    }

    /// The policy without `PORTAL_CONFIG`.
    public static let defaultPolicy = AccessPolicy(roles: defaultRoles, serviceAccounts: defaultServiceAccounts)

    /// `l01` … `l12`.
    public static func layerID(_ layer: Int) -> String { layer < 10 ? "l0\(layer)" : "l\(layer)" }

    /// The scopes `roles` grant, and whether one of them grants every scope; unknown roles grant nothing.
    public func scopes(forRoles names: [String]) -> (scopes: [String], all: Bool) {
        var scopes: [String] = []
        var all = false
        for name in names {
            for scope in roles[name] ?? [] {
                if scope == Self.everyScope {
                    all = true
                } else if !scopes.contains(scope) {
                    scopes.append(scope)
                }
            }
        }
        return (scopes, all)
    }

    /// The service account a verified client certificate stands for: by fingerprint first, then by subject.
    public func serviceAccount(certificateFingerprint: String?, subject: String?) -> ServiceAccount? {
        if let print = certificateFingerprint, let id = byFingerprint[print] { return serviceAccounts[id] }
        if let subject, let id = bySubject[subject] { return serviceAccounts[id] }
        return nil
    }

    /// Whether `name` may name a role or a service account: 1 to 64 of `a-z 0-9 _ -`.
    public static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { b in
                (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
            }
    }
}
