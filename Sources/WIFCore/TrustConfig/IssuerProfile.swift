/// The kind of platform an issuer is: `profile:` on an issuer entry. A profile fills in the defaults that
/// platform's tokens need where the entry leaves them out, and tells the loader what the platform's claims
/// look like, so that ``TrustConfigLoader`` can check policies against it (owner pinning on shared issuers,
/// patterns that admit every workload).
///
/// ```yaml
/// issuers:
///   - name: github
///     profile: github-actions        # algorithms [RS256], max_token_lifetime 1h, keys: {discovery: true}
///     issuer: https://token.actions.githubusercontent.com
///     audiences: [https://wif.example.com]
/// ```
///
/// No profile supplies `audiences`: the audience must name *your* wif, and one shared by every deployment
/// would let a token meant for one be replayed to another.
public enum IssuerProfile: String, Sendable, Hashable, CaseIterable {
    /// A Kubernetes cluster's service-account issuer (projected tokens, EKS/GKE/AKS included).
    case kubernetes
    /// GitHub Actions OIDC tokens (github.com, GitHub Enterprise Cloud and Server).
    case githubActions = "github-actions"
    /// GitLab CI/CD ID tokens (`id_tokens:`), GitLab.com or self-managed.
    case gitlab
    /// Google identity tokens: a VM's metadata server, Cloud Run, GKE workload identity, service accounts.
    case gcp
    /// Microsoft Entra ID (Azure AD) v2.0 tokens: managed identities and applications.
    case azure
    /// AWS STS outbound identity federation (`sts:GetWebIdentityToken`), one issuer per account.
    case aws
    /// SPIFFE JWT-SVIDs, e.g. from SPIRE's OIDC discovery provider.
    case spiffe

    /// The defaults this profile supplies, each used only where the issuer entry does not set the field.
    public var defaults: Defaults {
        switch self {
        case .kubernetes:
            // kube-apiserver signs with RS256 for an RSA key and ES256/ES384 for a P-256/P-384 key. The kubelet
            // rotates a pod's token once it is 80% through its life or 24 h old, so no mounted token is older.
            Defaults(
                algorithms: [.rs256, .es256, .es384],
                maxTokenLifetime: 24 * 3600,
                keySource: nil,
                kubernetes: KubernetesIntake(maxTokenAge: 24 * 3600, requirePodBinding: true, warnAfterAsExpiry: true)
            )
        case .githubActions:
            // GitHub's tokens live minutes (exp − iat is 5 min today); an hour leaves room for a change.
            Defaults(algorithms: [.rs256], maxTokenLifetime: 3600, keySource: .discovery, kubernetes: nil)
        case .gitlab:
            // An ID token expires with its job's timeout (1 h by default): raise max_token_lifetime for longer jobs.
            Defaults(algorithms: [.rs256], maxTokenLifetime: 2 * 3600, keySource: .discovery, kubernetes: nil)
        case .gcp:
            // Google identity tokens are RS256 and live exactly one hour.
            Defaults(algorithms: [.rs256], maxTokenLifetime: 3600, keySource: .discovery, kubernetes: nil)
        case .azure:
            // Entra access tokens live 60–90 minutes; managed-identity tokens up to 24 h.
            Defaults(algorithms: [.rs256], maxTokenLifetime: 24 * 3600, keySource: .discovery, kubernetes: nil)
        case .aws:
            // GetWebIdentityToken signs with RS256 or ES384, for 60 s to 1 h (5 min by default).
            Defaults(algorithms: [.rs256, .es384], maxTokenLifetime: 3600, keySource: .discovery, kubernetes: nil)
        case .spiffe:
            // JWT-SVIDs may use the RSA, RSA-PSS and ECDSA families (ES512 is not supported by wif); SPIRE's
            // default JWT-SVID lifetime is 5 min.
            Defaults(
                algorithms: [.rs256, .rs384, .rs512, .ps256, .ps384, .ps512, .es256, .es384],
                maxTokenLifetime: 3600,
                keySource: nil,
                kubernetes: nil
            )
        }
    }

    /// What a profile fills in.
    public struct Defaults: Sendable, Hashable {
        public let algorithms: Set<JWSAlgorithm>
        /// The longest token lifetime accepted, in seconds.
        public let maxTokenLifetime: Int
        /// The key source when `keys:` is left out; nil: `keys:` stays required.
        public let keySource: TrustedIssuer.KeySource?
        /// The `kubernetes:` intake options for fields the entry leaves out; nil: the plain defaults.
        public let kubernetes: KubernetesIntake?
    }
}

/// The platform whose claim shapes a policy's conditions are read against: the issuer's profile, or what its
/// URL shows when it has none.
enum IssuerFamily: Sendable, Hashable {
    case kubernetes, github, gitlab, google, azure, aws, spiffe

    init(_ profile: IssuerProfile) {
        switch profile {
        case .kubernetes: self = .kubernetes
        case .githubActions: self = .github
        case .gitlab: self = .gitlab
        case .gcp: self = .google
        case .azure: self = .azure
        case .aws: self = .aws
        case .spiffe: self = .spiffe
        }
    }

    /// The family of an issuer: its profile, or one of the well-known public issuer URLs.
    static func of(_ issuer: TrustedIssuer) -> IssuerFamily? {
        if let profile = issuer.profile { return IssuerFamily(profile) }
        let url = issuer.issuer
        if url.hasPrefix(SharedIssuer.githubURL) { return .github }
        if url == SharedIssuer.gitlabURL || url == SharedIssuer.gitlabURL + "/" { return .gitlab }
        if url == SharedIssuer.googleURL || url == "accounts.google.com" { return .google }
        if SharedIssuer.isEntraHost(url) { return .azure }
        if URLParts(url)?.host.hasSuffix(".tokens.sts.global.api.aws") == true { return .aws }
        return nil
    }
}

/// An issuer every tenant of a public platform shares: any GitHub repository, GitLab.com project or Entra
/// tenant can obtain a token from it, for any audience. A policy on it must pin the owner with an exact
/// condition, or it admits the whole platform.
struct SharedIssuer: Sendable {
    static let githubURL = "https://token.actions.githubusercontent.com"
    static let gitlabURL = "https://gitlab.com"
    static let googleURL = "https://accounts.google.com"
    /// Microsoft Entra sign-in hosts (public and national clouds).
    static let entraHosts: Set<String> = [
        "login.microsoftonline.com", "login.microsoft.com", "login.windows.net", "sts.windows.net", "login.microsoftonline.us",
        "login.chinacloudapi.cn", "login.partner.microsoftonline.cn",
    ]

    /// Who shares the issuer, for messages: "every GitHub repository".
    let sharedBy: String
    /// Claims (top-level names or paths) an exact condition on which pins the owner.
    let ownerClaims: [ClaimPath]
    /// Claims that name the owner but can be re-registered by someone else, so do not pin it.
    let nameClaims: [String]

    /// The sharing rule for an issuer, or nil when it is not a known shared issuer.
    static func of(_ issuer: TrustedIssuer) -> SharedIssuer? {
        let url = issuer.issuer
        if url == githubURL || url == githubURL + "/" {
            return SharedIssuer(
                sharedBy: "every GitHub repository",
                ownerClaims: [ClaimPath(["repository_owner_id"]), ClaimPath(["repository_id"])],
                nameClaims: ["repository_owner", "repository", "sub"]
            )
        }
        if url == gitlabURL || url == gitlabURL + "/" {
            return SharedIssuer(
                sharedBy: "every GitLab.com project",
                ownerClaims: [ClaimPath(["namespace_id"]), ClaimPath(["project_id"])],
                nameClaims: ["namespace_path", "project_path", "sub"]
            )
        }
        if url == googleURL || url == "accounts.google.com" {
            return SharedIssuer(
                sharedBy: "every Google account and service account",
                ownerClaims: [
                    ClaimPath(["sub"]), ClaimPath(["azp"]), ClaimPath(["email"]), ClaimPath(["google", "compute_engine", "project_id"]),
                    ClaimPath(["google", "compute_engine", "project_number"]),
                ],
                nameClaims: []
            )
        }
        if isEntraHost(url), let tenant = URLParts(url)?.path.split(separator: "/").first?.lowercased(),
            ["common", "organizations"].contains(tenant)
        {
            return SharedIssuer(sharedBy: "every Microsoft Entra tenant", ownerClaims: [ClaimPath(["tid"])], nameClaims: [])
        }
        return nil
    }

    static func isEntraHost(_ url: String) -> Bool {
        guard let host = URLParts(url)?.host else { return false }
        return entraHosts.contains(host)
    }

    /// Whether one of `conditions` pins the owner: `equals` or `one_of` on an owner claim.
    func isPinned(by conditions: [ClaimCondition]) -> Bool {
        conditions.contains { condition in
            guard ownerClaims.contains(condition.claim) else { return false }
            switch condition.matcher {
            case .equals, .oneOf: return true
            case .glob, .regex, .contains: return false
            }
        }
    }
}

/// The host and path of an `https://` URL, lower-cased host, for recognising well-known issuers.
struct URLParts {
    let host: String
    let path: String

    init?(_ url: String) {
        guard url.hasPrefix("https://") else { return nil }
        let rest = url.dropFirst("https://".count)
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        host = authority.prefix { $0 != ":" }.lowercased()
        path = String(rest.dropFirst(authority.count))
    }
}
