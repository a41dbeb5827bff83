/// An issuer whose tokens wif accepts, checked at load into a value that cannot be invalid.
public struct TrustedIssuer: Sendable, Hashable {
    /// Where the issuer's public keys come from.
    public enum KeySource: Sendable, Hashable {
        /// OpenID Connect discovery: `{issuer}/.well-known/openid-configuration` names the `jwks_uri`.
        case discovery
        /// A JWKS document at this URL.
        case jwksURL(String)
        /// A JWKS document in a file (a path relative to the trust-config folder, or absolute).
        case jwksFile(String)
        /// wif's own development issuer, whose key lives in the local state folder. Refused unless the
        /// server listens on a loopback address.
        case development
    }

    /// The name policies use to refer to this issuer.
    public let name: String
    /// The exact `iss` value of its tokens (compared code point by code point, never normalized).
    public let issuer: String
    public let keySource: KeySource
    /// Accepted `aud` values: a token must carry at least one of them.
    public let audiences: [String]
    /// The signature algorithms this issuer's tokens may use.
    public let algorithms: Set<JWSAlgorithm>
    /// The longest `exp - iat` accepted, in seconds.
    public let maxTokenLifetime: Int
    /// The clock-skew allowance for `exp`, `nbf` and `iat`, in seconds.
    public let leeway: Int
    /// Plain `http` key-source URLs are allowed, for loopback hosts only (tests and demos).
    public let allowInsecureLoopback: Bool
    /// A JWKS file whose keys are trusted beside the live ``keySource`` and keep working when it is down
    /// (keys pinned by the operator, e.g. during a cluster migration).
    public let pinnedKeysFile: String?
    /// How the issuer's keys are cached and refreshed.
    public let keyCache: KeyCachePolicy
    /// Checks on Kubernetes service-account tokens.
    public let kubernetes: KubernetesIntake
    /// The platform profile named by `profile:`, whose defaults filled the fields the entry left out; nil
    /// when the entry names none.
    public let profile: IssuerProfile?

    public static let defaultMaxTokenLifetime = 24 * 3600
    public static let defaultLeeway = 60
    public static let maxLeeway = 300

    public init(
        name: String,
        issuer: String,
        keySource: KeySource,
        audiences: [String],
        algorithms: Set<JWSAlgorithm>,
        maxTokenLifetime: Int = defaultMaxTokenLifetime,
        leeway: Int = defaultLeeway,
        allowInsecureLoopback: Bool = false,
        pinnedKeysFile: String? = nil,
        keyCache: KeyCachePolicy = KeyCachePolicy(),
        kubernetes: KubernetesIntake = KubernetesIntake(),
        profile: IssuerProfile? = nil
    ) {
        self.name = name
        self.issuer = issuer
        self.keySource = keySource
        self.audiences = audiences
        self.algorithms = algorithms
        self.maxTokenLifetime = maxTokenLifetime
        self.leeway = leeway
        self.allowInsecureLoopback = allowInsecureLoopback
        self.pinnedKeysFile = pinnedKeysFile
        self.keyCache = keyCache
        self.kubernetes = kubernetes
        self.profile = profile
    }
}

/// How long an issuer's fetched keys are used before a refresh, and for how long after refreshes start
/// failing. All in seconds.
public struct KeyCachePolicy: Sendable, Hashable {
    /// The shortest interval between scheduled refreshes, whatever `Cache-Control: max-age` says.
    public var minRefresh: Int
    /// The longest interval between scheduled refreshes.
    public var maxRefresh: Int
    /// The interval when the JWKS response names no `max-age` (then clamped to min/max).
    public var defaultRefresh: Int
    /// At most one refresh per this interval because a token named an unknown `kid`.
    public var unknownKeyInterval: Int
    /// How long the last good keys keep serving after the last successful fetch while refreshes fail.
    public var maxStale: Int

    public static let defaults = KeyCachePolicy()

    public init(minRefresh: Int = 60, maxRefresh: Int = 3600, defaultRefresh: Int = 300, unknownKeyInterval: Int = 30, maxStale: Int = 24 * 3600) {
        self.minRefresh = minRefresh
        self.maxRefresh = max(maxRefresh, minRefresh)
        self.defaultRefresh = defaultRefresh
        self.unknownKeyInterval = unknownKeyInterval
        self.maxStale = maxStale
    }

    /// The refresh interval for a response that said `max-age` (or nothing).
    public func refreshInterval(maxAge: Int?) -> Int {
        min(max(maxAge ?? defaultRefresh, minRefresh), maxRefresh)
    }
}

/// Intake rules for Kubernetes projected service-account tokens (security-cases.md D2).
public struct KubernetesIntake: Sendable, Hashable {
    /// Refuse tokens issued (`iat`) longer ago than this many seconds; nil: no limit beyond the lifetime.
    public var maxTokenAge: Int?
    /// Require the pod binding claim (`kubernetes.io` → `pod`), so that only pod-bound tokens are accepted.
    public var requirePodBinding: Bool
    /// Treat `kubernetes.io` → `warnafter` as the token's expiry (on by default; off for cluster migrations
    /// where extended tokens must keep their full lifetime).
    public var warnAfterAsExpiry: Bool

    /// A token's expiry and the instant its lifetime is measured to, from `exp` and `kubernetes.io.warnafter`:
    /// an extended token (exp = iat + 1 year) names its real lifetime in warnafter, which is always the
    /// lifetime's end and, unless the issuer opts out, also the expiry (security-cases.md D2).
    public func expiry(exp: Double, warnAfter: Double?) -> (expiresAt: Double, lifetimeEnd: Double) {
        let lifetimeEnd = min(exp, warnAfter ?? exp)
        return (warnAfterAsExpiry ? lifetimeEnd : exp, lifetimeEnd)
    }

    public init(maxTokenAge: Int? = nil, requirePodBinding: Bool = false, warnAfterAsExpiry: Bool = true) {
        self.maxTokenAge = maxTokenAge
        self.requirePodBinding = requirePodBinding
        self.warnAfterAsExpiry = warnAfterAsExpiry
    }
}
