/// One policy test case from `tests/*.yaml`: the claims of a subject token, the request, and the decision
/// expected for them. ``PolicyTestRunner`` runs it through the real exchange pipeline.
public struct PolicyTestCase: Sendable {
    public let name: String
    /// The case file, as named when loaded.
    public let file: String
    /// The 1-based line where the case starts.
    public let line: Int?
    /// The ``TrustedIssuer/name`` whose token this is.
    public let issuer: String
    /// The claims as written; ``PolicyTestRunner`` adds `iss`, `aud`, `iat` and `exp` when they are missing.
    public let claims: [String: JSONValue]
    public let request: TokenRequestParameters
    public let expectation: Expectation

    public init(
        name: String,
        file: String,
        line: Int?,
        issuer: String,
        claims: [String: JSONValue],
        request: TokenRequestParameters = TokenRequestParameters(),
        expectation: Expectation
    ) {
        self.name = name
        self.file = file
        self.line = line
        self.issuer = issuer
        self.claims = claims
        self.request = request
        self.expectation = expectation
    }

    /// `file:line`.
    public var location: String { line.map { "\(file):\($0)" } ?? file }

    /// The decision a case expects.
    public enum Expectation: Sendable, Hashable {
        case granted(Grant)
        case denied(Denial)

        /// A token issued by ``policy``; each other field, when given, must match the issued token exactly.
        public struct Grant: Sendable, Hashable {
            public let policy: String
            /// The issued audiences (in any order).
            public let audiences: [String]?
            /// The issued scopes (in any order); `[]` expects none.
            public let scopes: [String]?
            /// Claims the issued token must carry with exactly these values (it may carry others).
            public let claims: [String: JSONValue]?
            /// The issued lifetime in seconds.
            public let lifetime: Int?

            public init(policy: String, audiences: [String]? = nil, scopes: [String]? = nil, claims: [String: JSONValue]? = nil, lifetime: Int? = nil)
            {
                self.policy = policy
                self.audiences = audiences
                self.scopes = scopes
                self.claims = claims
                self.lifetime = lifetime
            }
        }

        /// A refusal with this reason (and, when given, this OAuth error).
        public struct Denial: Sendable, Hashable {
            public let error: ExchangeError.Code
            public let oauthError: String?

            public init(error: ExchangeError.Code, oauthError: String? = nil) {
                self.error = error
                self.oauthError = oauthError
            }
        }

        /// `granted demo-app` or `denied scope_not_allowed`, for the results table.
        public var summary: String {
            switch self {
            case .granted(let grant): "granted \(grant.policy)"
            case .denied(let denial): "denied \(denial.error.rawValue)" + (denial.oauthError.map { " (\($0))" } ?? "")
            }
        }

        public var json: JSONValue {
            switch self {
            case .granted(let grant):
                [
                    "granted": true,
                    "policy": .string(grant.policy),
                    "audience": grant.audiences.map { .array($0.map(JSONValue.string)) } ?? .null,
                    "scope": grant.scopes.map { .array($0.map(JSONValue.string)) } ?? .null,
                    "claims": grant.claims.map(JSONValue.object) ?? .null,
                    "lifetime": grant.lifetime.map { .number(Double($0)) } ?? .null,
                ]
            case .denied(let denial):
                ["granted": false, "error": .string(denial.error.rawValue), "oauth_error": denial.oauthError.map(JSONValue.string) ?? .null]
            }
        }
    }
}

/// Policy test files that could not be read, with every problem found (file, line, field).
public struct PolicyTestFileError: Error, Sendable, CustomStringConvertible {
    public let problems: [TrustConfigProblem]

    public init(problems: [TrustConfigProblem]) {
        self.problems = problems
    }

    public var description: String {
        "policy tests have \(problems.count) problem\(problems.count == 1 ? "" : "s"):\n" + problems.map { "  \($0)" }.joined(separator: "\n")
    }
}
