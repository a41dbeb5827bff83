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
        allowInsecureLoopback: Bool = false
    ) {
        self.name = name
        self.issuer = issuer
        self.keySource = keySource
        self.audiences = audiences
        self.algorithms = algorithms
        self.maxTokenLifetime = maxTokenLifetime
        self.leeway = leeway
        self.allowInsecureLoopback = allowInsecureLoopback
    }
}
