/// A trust policy: which tokens of one issuer it admits and what it grants them.
public struct TrustPolicy: Sendable, Hashable {
    public let name: String
    /// The ``TrustedIssuer/name`` this policy applies to.
    public let issuer: String
    /// Every condition must hold for the policy to match. Never empty.
    public let conditions: [ClaimCondition]
    public let grant: Grant
    /// Who may act for the tokens this policy admits (RFC 8693 delegation); nil refuses every `actor_token`.
    public let delegation: Delegation?
    /// Whether the policy grants (``Mode/enforce``, the default) or is only evaluated and logged
    /// (``Mode/audit``).
    public let mode: Mode

    /// How a policy takes part in decisions: `mode:` in trust-config.
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        /// The policy grants what it admits (the default).
        case enforce
        /// Shadow mode for a safe rollout: the policy is evaluated on live traffic and its would-grant or
        /// would-deny outcome is logged, but it never grants.
        case audit
    }

    public init(
        name: String,
        issuer: String,
        conditions: [ClaimCondition],
        grant: Grant,
        delegation: Delegation? = nil,
        mode: Mode = .enforce
    ) {
        precondition(!conditions.isEmpty, "a policy without conditions would trust every token of its issuer")
        self.name = name
        self.issuer = issuer
        self.conditions = conditions
        self.grant = grant
        self.delegation = delegation
        self.mode = mode
    }

    /// The actors a policy lets act for its subjects. An `actor_token` is admitted when it verifies against
    /// its own trusted issuer and matches one of ``actors``; a subject token's `may_act` claim, when present,
    /// narrows that further (RFC 8693 §4.4).
    public struct Delegation: Sendable, Hashable {
        public let actors: [Actor]

        public init(actors: [Actor]) {
            precondition(!actors.isEmpty, "delegation names at least one actor")
            self.actors = actors
        }

        /// Tokens of one trusted issuer whose claims meet every condition.
        public struct Actor: Sendable, Hashable {
            /// The ``TrustedIssuer/name`` of the actor token's issuer.
            public let issuer: String
            public let conditions: [ClaimCondition]

            public init(issuer: String, conditions: [ClaimCondition]) {
                precondition(!conditions.isEmpty, "an actor rule without conditions would admit every token of its issuer")
                self.issuer = issuer
                self.conditions = conditions
            }
        }
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
        /// The issued `client_id` (default: the policy name), which a request's `client_id` must equal when sent.
        public let clientID: String
        /// When set, the client id is instead this claim of the subject token (e.g. `sub`).
        public let clientIDClaim: ClaimPath?

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
            clientID: String,
            clientIDClaim: ClaimPath? = nil
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
            self.clientIDClaim = clientIDClaim
        }
    }
}

/// The claims an issued token sets itself; a policy cannot map onto them.
public enum ReservedClaims {
    public static let names: Set<String> = [
        "iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope", "act", "may_act", "cnf", "wif_policy", "wif_config",
    ]
}
