/// A trust policy: which tokens of one issuer it admits and what it grants them.
public struct TrustPolicy: Sendable, Hashable {
    public let name: String
    /// The ``TrustedIssuer/name`` this policy applies to.
    public let issuer: String
    /// Every condition must hold for the policy to match. Never empty.
    public let conditions: [ClaimCondition]
    public let grant: Grant

    public init(name: String, issuer: String, conditions: [ClaimCondition], grant: Grant) {
        precondition(!conditions.isEmpty, "a policy without conditions would trust every token of its issuer")
        self.name = name
        self.issuer = issuer
        self.conditions = conditions
        self.grant = grant
    }

    /// What a matching token may be issued.
    public struct Grant: Sendable, Hashable {
        /// Audiences the issued token may carry; the first is used when the request names none.
        public let audiences: [String]
        /// Scopes a request may ask for (any subset).
        public let scopes: [String]
        /// Scopes issued when the request names none; nil means all of ``scopes``.
        public let defaultScopes: [String]?
        /// The longest lifetime issued, in seconds.
        public let maxLifetime: Int
        /// The issued token may outlive the subject token (off by default).
        public let mayOutliveSubjectToken: Bool
        /// The claim whose string value becomes the issued `sub` (default: the subject token's `sub`).
        public let subjectClaim: ClaimPath
        /// Issued claim name → subject-token claim path it is copied from.
        public let mappedClaims: [String: ClaimPath]
        /// The issued `client_id` (default: the policy name).
        public let clientID: String

        public static let defaultMaxLifetime = 3600
        public static let maxMaxLifetime = 12 * 3600

        public init(
            audiences: [String],
            scopes: [String],
            defaultScopes: [String]? = nil,
            maxLifetime: Int = defaultMaxLifetime,
            mayOutliveSubjectToken: Bool = false,
            subjectClaim: ClaimPath = ClaimPath(["sub"]),
            mappedClaims: [String: ClaimPath] = [:],
            clientID: String
        ) {
            precondition(!audiences.isEmpty, "a grant names at least one audience")
            self.audiences = audiences
            self.scopes = scopes
            self.defaultScopes = defaultScopes
            self.maxLifetime = maxLifetime
            self.mayOutliveSubjectToken = mayOutliveSubjectToken
            self.subjectClaim = subjectClaim
            self.mappedClaims = mappedClaims.filter { !ReservedClaims.names.contains($0.key) }
            self.clientID = clientID
        }
    }
}

/// The claims an issued token sets itself; a policy cannot map onto them.
public enum ReservedClaims {
    public static let names: Set<String> = ["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope", "act", "may_act", "cnf"]
}
