/// One condition's result as `wif explain`, `wif test` and audit traces show it: the claim, how it must
/// look, and what it is.
public struct ConditionTrace: Sendable, Hashable {
    public let claim: ClaimPath
    /// The matcher's name as written in trust-config: `equals`, `one_of`, `glob`, `regex` or `contains`.
    public let matcher: String
    /// What the matcher expects: the value, the list of values, or the pattern (a string).
    public let expected: JSONValue
    /// The claim's value in the token, or nil when the token does not have it.
    public let actual: JSONValue?
    public let passed: Bool
    /// The sentence the audit detail uses, e.g. `claim sub is "x", expected equals "y"`.
    public let reason: String

    public init(_ result: ConditionResult) {
        claim = result.condition.claim
        switch result.condition.matcher {
        case .equals(let value): (matcher, expected) = ("equals", value)
        case .oneOf(let values): (matcher, expected) = ("one_of", .array(values))
        case .glob(let glob): (matcher, expected) = ("glob", .string(glob.pattern))
        case .regex(let regex): (matcher, expected) = ("regex", .string(regex.pattern))
        case .contains(let value): (matcher, expected) = ("contains", value)
        }
        actual = result.actual
        passed = result.passed
        reason = result.reason
    }

    /// `{"claim": [segments], "matcher", "expected", "actual", "present", "passed", "reason"}`.
    public var json: JSONValue {
        [
            "claim": .array(claim.segments.map(JSONValue.string)),
            "matcher": .string(matcher),
            "expected": expected,
            "actual": actual ?? .null,
            "present": .bool(actual != nil),
            "passed": .bool(passed),
            "reason": .string(reason),
        ]
    }
}

/// A refusal with everything a person debugging it needs: the reason code, the OAuth answer the client
/// gets, and the audit detail.
public struct RefusalTrace: Sendable, Hashable {
    public let code: ExchangeError.Code
    /// The OAuth `error` the client receives for this grant type.
    public let oauthError: String
    public let status: Int
    /// The `error_description` the client receives.
    public let description: String
    /// The audit-log detail (never sent to the client).
    public let detail: String?
    /// The pipeline stage that refused (`request`, `parse`, `signature`, `claims`, `policy`, `grant`, `internal`).
    public let stage: String

    public init(_ error: ExchangeError, grant: GrantType?) {
        let response = OAuthErrorResponse(error, grant: grant)
        code = error.code
        oauthError = response.error
        status = response.status
        description = response.errorDescription
        detail = error.detail
        stage = error.stage
    }

    /// `{"error", "oauth_error", "status", "error_description", "detail", "stage"}`.
    public var json: JSONValue {
        [
            "error": .string(code.rawValue),
            "oauth_error": .string(oauthError),
            "status": .number(Double(status)),
            "error_description": .string(description),
            "detail": detail.map(JSONValue.string) ?? .null,
            "stage": .string(stage),
        ]
    }
}

/// What a granted exchange issues, in the terms a person checks it by.
public struct GrantTrace: Sendable, Hashable {
    public let policy: String
    public let subject: String
    public let audiences: [String]
    public let scopes: [String]
    public let clientID: String
    public let issuedAt: Int
    public let expiresAt: Int
    /// The issued `act` claim after a delegated exchange.
    public let actor: JSONValue?

    public var lifetime: Int { expiresAt - issuedAt }

    public init(_ grant: IssuedGrant) {
        policy = grant.policy.name
        subject = grant.subject
        audiences = grant.audiences
        scopes = grant.scopes
        clientID = grant.clientID
        issuedAt = grant.issuedAt
        expiresAt = grant.expiresAt
        actor = grant.actor
    }

    /// `{"policy", "sub", "audience", "scope", "client_id", "iat", "exp", "lifetime", "act"}`.
    public var json: JSONValue {
        [
            "policy": .string(policy),
            "sub": .string(subject),
            "audience": .array(audiences.map(JSONValue.string)),
            "scope": .array(scopes.map(JSONValue.string)),
            "client_id": .string(clientID),
            "iat": .number(Double(issuedAt)),
            "exp": .number(Double(expiresAt)),
            "lifetime": .number(Double(lifetime)),
            "act": actor ?? .null,
        ]
    }
}

/// How one policy fared, including policies the evaluator never reached because an earlier one granted.
public struct PolicyTrace: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable {
        /// Every condition held and the grant served the request: this policy's grant is issued.
        case granted
        /// Every condition held, but the grant could not serve the request (``PolicyTrace/refusal`` says why).
        case refused
        /// At least one condition failed.
        case notMatched = "not_matched"
        /// An earlier policy granted first; the conditions are shown for information.
        case notReached = "not_reached"
        /// A `mode: audit` policy that would have granted, had it been enforced (it never grants).
        case auditWouldGrant = "audit_would_grant"
        /// A `mode: audit` policy that would not have granted either.
        case auditWouldDeny = "audit_would_deny"

        /// Whether the policy took part in the decision (`mode: enforce`).
        public var isEnforced: Bool { self != .auditWouldGrant && self != .auditWouldDeny }
    }

    public let name: String
    /// The policy's `mode:` (`enforce` or `audit`).
    public let mode: TrustPolicy.Mode
    public let status: Status
    /// Every condition, in policy order.
    public let conditions: [ConditionTrace]
    /// Why a matching policy could not serve the request.
    public let refusal: RefusalTrace?

    public var failedConditions: [ConditionTrace] { conditions.filter { !$0.passed } }

    public init(name: String, mode: TrustPolicy.Mode = .enforce, status: Status, conditions: [ConditionTrace], refusal: RefusalTrace?) {
        self.name = name
        self.mode = mode
        self.status = status
        self.conditions = conditions
        self.refusal = refusal
    }

    /// `{"policy", "status", "conditions": […], "refusal"}`.
    public var json: JSONValue {
        [
            "policy": .string(name),
            "mode": .string(mode.rawValue),
            "status": .string(status.rawValue),
            "conditions": .array(conditions.map(\.json)),
            "refusal": refusal?.json ?? .null,
        ]
    }
}

/// The decision for one token and request with every policy's reasons: built from what the exchange
/// pipeline returned (``ExchangeOutcome`` or a ``PolicyDecision``), for `wif explain`, `wif test` and audit
/// traces.
public struct DecisionTrace: Sendable {
    /// What was decided.
    public enum Verdict: Sendable, Hashable {
        case granted(GrantTrace)
        case denied(RefusalTrace)

        public var isGranted: Bool {
            if case .granted = self { return true }
            return false
        }

        /// `{"granted": true, …grant}` or `{"granted": false, …refusal}`.
        public var json: JSONValue {
            switch self {
            case .granted(let grant):
                var members = grant.json.objectValue ?? [:]
                members["granted"] = true
                return .object(members)
            case .denied(let refusal):
                var members = refusal.json.objectValue ?? [:]
                members["granted"] = false
                return .object(members)
            }
        }
    }

    public let verdict: Verdict
    /// The issuer's policies in evaluation order.
    public let policies: [PolicyTrace]
    /// For a denial after policies were evaluated: the policy that came closest. That is the first one whose
    /// conditions all held but whose grant refused (``PolicyTrace/refusal`` says why), else the one with the
    /// fewest failed conditions (the first on a tie), whose failed conditions are the claim-by-claim difference.
    public let closest: PolicyTrace?

    /// - Parameters:
    ///   - evaluations: what ``PolicyEvaluator/decide(token:actor:request:policies:now:)`` evaluated.
    ///   - shadow: what its `mode: audit` policies would have decided.
    ///   - result: the decision (a grant, or the refusal).
    ///   - grant: the request's grant type, which decides the OAuth error of a token refusal.
    ///   - policies: all of the issuer's policies, to list them in configuration order and, when one
    ///     granted, those after it as not reached, their conditions evaluated on `claims`.
    ///   - claims: the subject token's claims.
    public init(
        evaluations: [PolicyEvaluation],
        shadow: [ShadowDecision] = [],
        result: Result<IssuedGrant, ExchangeError>,
        grant: GrantType?,
        policies: [TrustPolicy] = [],
        claims: JSONValue? = nil
    ) {
        let evaluated = Dictionary(evaluations.map { ($0.policy.name, $0) }, uniquingKeysWith: { first, _ in first })
        let shadowed = Dictionary(shadow.map { ($0.policy.name, $0) }, uniquingKeysWith: { first, _ in first })
        let ordered = policies.isEmpty ? evaluations.map(\.policy) + shadow.map(\.policy) : policies
        var traces: [PolicyTrace] = []
        let winner: String? = if case .success(let grant) = result { grant.policy.name } else { nil }
        var pastWinner = false
        for policy in ordered {
            defer { if policy.name == winner { pastWinner = true } }
            if let evaluation = evaluated[policy.name] {
                traces.append(
                    PolicyTrace(
                        name: policy.name,
                        mode: policy.mode,
                        status: evaluation.matched ? (evaluation.grantRefusal == nil ? .granted : .refused) : .notMatched,
                        conditions: evaluation.conditions.map(ConditionTrace.init),
                        refusal: evaluation.grantRefusal.map { RefusalTrace($0, grant: grant) }
                    )
                )
            } else if let decision = shadowed[policy.name] {
                let conditions = claims.map { claims in policy.conditions.map { ConditionTrace($0.evaluate(claims)) } } ?? []
                var refusal: RefusalTrace?
                if case .failure(let error) = decision.result, conditions.allSatisfy(\.passed) { refusal = RefusalTrace(error, grant: grant) }
                traces.append(
                    PolicyTrace(
                        name: policy.name,
                        mode: policy.mode,
                        status: decision.wouldGrant ? .auditWouldGrant : .auditWouldDeny,
                        conditions: conditions,
                        refusal: refusal
                    )
                )
            } else if let claims, case .success = result {
                // Only a grant leaves policies unevaluated: after the granting policy they were not reached;
                // before it, the policy index skipped them because their key condition cannot hold.
                let conditions = policy.conditions.map { ConditionTrace($0.evaluate(claims)) }
                traces.append(
                    PolicyTrace(
                        name: policy.name,
                        mode: policy.mode,
                        status: pastWinner || conditions.allSatisfy(\.passed) ? .notReached : .notMatched,
                        conditions: conditions,
                        refusal: nil
                    )
                )
            }
        }
        switch result {
        case .success(let issued): verdict = .granted(GrantTrace(issued))
        case .failure(let error): verdict = .denied(RefusalTrace(error, grant: grant))
        }
        self.policies = traces
        // The same rule as the audit log's closest_policy.
        let nearest = verdict.isGranted ? nil : PolicyEvaluation.closest(evaluations)
        closest = nearest.flatMap { nearest in traces.first { $0.name == nearest.policy.name } }
    }

    /// The trace of one run of the exchange pipeline.
    public init(outcome: ExchangeOutcome, policies: [TrustPolicy] = [], claims: JSONValue? = nil) {
        self.init(
            evaluations: outcome.evaluations,
            shadow: outcome.shadow,
            result: outcome.result.map(\.grant),
            grant: outcome.request?.grantType,
            policies: policies,
            claims: claims
        )
    }

    /// `{"decision": verdict, "policies": […], "closest_policy"}`.
    public var json: JSONValue {
        [
            "decision": verdict.json,
            "policies": .array(policies.map(\.json)),
            "closest_policy": closest.map { .string($0.name) } ?? .null,
        ]
    }
}
