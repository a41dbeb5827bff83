/// How one policy fared against a token and request.
public struct PolicyEvaluation: Sendable {
    public let policy: TrustPolicy
    /// Every condition's result, in policy order (all are evaluated, for `explain`).
    public let conditions: [ConditionResult]
    /// Why the policy matched but could not serve the request (audience or scope refused).
    public let grantRefusal: ExchangeError?

    public var matched: Bool { conditions.allSatisfy(\.passed) }

    /// The conditions that did not hold.
    public var failedConditions: [ConditionResult] { conditions.filter { !$0.passed } }

    /// `policy: reason; reason`, for audit details.
    var failureSummary: String { "\(policy.name): " + failedConditions.map(\.reason).joined(separator: "; ") }

    /// For a denial, the policy that came closest, as the audit log and `wif explain` name it: the first
    /// whose conditions all held but whose grant refused, else the one with the fewest failed conditions
    /// (the first on a tie).
    public static func closest(_ evaluations: [PolicyEvaluation]) -> PolicyEvaluation? {
        evaluations.min { lhs, rhs in
            (lhs.matched ? 0 : 1, lhs.failedConditions.count) < (rhs.matched ? 0 : 1, rhs.failedConditions.count)
        }
    }
}

/// What a granted exchange issues, before signing.
public struct IssuedGrant: Sendable {
    public let policy: TrustPolicy
    public let subject: String
    public let audiences: [String]
    public let scopes: [String]
    public let clientID: String
    /// Issued `iat`/`nbf`, whole seconds.
    public let issuedAt: Int
    /// Issued `exp`, whole seconds; never after the subject token's effective expiry unless the policy allows.
    public let expiresAt: Int
    public let mappedClaims: [String: JSONValue]
    /// The issued `act` claim (RFC 8693 §4.1): the actor, with earlier actors nested, or nil.
    public let actor: JSONValue?

    public var lifetime: Int { expiresAt - issuedAt }
}

/// The decision for one exchange: the grant, or the error, and every policy's evaluation as the reasons.
public struct PolicyDecision: Sendable {
    public let evaluations: [PolicyEvaluation]
    public let result: Result<IssuedGrant, ExchangeError>
    /// What each `mode: audit` policy of the issuer would have decided; they never grant.
    public var shadow: [ShadowDecision] = []
}

/// A `mode: audit` policy's would-grant or would-deny for one request (shadow rollout).
public struct ShadowDecision: Sendable {
    public let policy: TrustPolicy
    /// The grant it would have issued, or why it would have refused.
    public let result: Result<IssuedGrant, ExchangeError>

    public var wouldGrant: Bool { (try? result.get()) != nil }
}

/// Evaluates an issuer's policies for a verified token (STYLE.md habit 3: results with reasons).
public enum PolicyEvaluator {
    /// Policies are tried in order; the first whose conditions all hold and whose grant allows the requested
    /// audiences and scopes is used, and only its grant (never a union). When policies match but none can
    /// serve the request, the first matching policy's refusal is the answer.
    /// `actor` is the verified `actor_token` of a delegation request.
    public static func decide(
        token: VerifiedToken,
        actor: VerifiedToken? = nil,
        request: ExchangeRequest,
        policies: [TrustPolicy],
        now: Double
    ) -> PolicyDecision {
        decide(token: token, actor: actor, request: request, policies: IssuerPolicies(policies), now: now)
    }

    /// The same decision over an issuer's indexed policies: only the candidates for this token are
    /// evaluated (``IssuerPolicies/candidates(for:)``), which reach the same grant; a refusal evaluates
    /// them all, so that its explanation (each policy's reasons, the closest one) is complete.
    public static func decide(
        token: VerifiedToken,
        actor: VerifiedToken? = nil,
        request: ExchangeRequest,
        policies: IssuerPolicies,
        now: Double
    ) -> PolicyDecision {
        let shadow = policies.audit.map { policy in
            ShadowDecision(policy: policy, result: wouldGrant(policy: policy, token: token, actor: actor, request: request, now: now))
        }
        let candidates = policies.candidates(for: token.claims)
        var decision = decideEnforced(token: token, actor: actor, request: request, policies: candidates, now: now)
        if case .failure = decision.result, candidates.count < policies.enforced.count {
            decision = decideEnforced(token: token, actor: actor, request: request, policies: policies.enforced, now: now)
        }
        decision.shadow = shadow
        return decision
    }

    /// What one policy alone would decide: its grant when its conditions hold and it can serve the request.
    static func wouldGrant(
        policy: TrustPolicy,
        token: VerifiedToken,
        actor: VerifiedToken?,
        request: ExchangeRequest,
        now: Double
    ) -> Result<IssuedGrant, ExchangeError> {
        let evaluation = PolicyEvaluation(policy: policy, conditions: policy.conditions.map { $0.evaluate(token.claims) }, grantRefusal: nil)
        guard evaluation.matched else {
            return .failure(
                ExchangeError(
                    .noPolicyMatched,
                    "subject token is not permitted by any trust policy",
                    detail: evaluation.failureSummary
                )
            )
        }
        return grant(policy: policy, token: token, actor: actor, request: request, now: now)
    }

    private static func decideEnforced(
        token: VerifiedToken,
        actor: VerifiedToken?,
        request: ExchangeRequest,
        policies: [TrustPolicy],
        now: Double
    ) -> PolicyDecision {
        var evaluations: [PolicyEvaluation] = []
        var firstRefusal: ExchangeError?
        for policy in policies {
            let conditions = policy.conditions.map { $0.evaluate(token.claims) }
            guard conditions.allSatisfy(\.passed) else {
                evaluations.append(PolicyEvaluation(policy: policy, conditions: conditions, grantRefusal: nil))
                continue
            }
            switch grant(policy: policy, token: token, actor: actor, request: request, now: now) {
            case .success(let grant):
                evaluations.append(PolicyEvaluation(policy: policy, conditions: conditions, grantRefusal: nil))
                return PolicyDecision(evaluations: evaluations, result: .success(grant))
            case .failure(let refusal):
                evaluations.append(PolicyEvaluation(policy: policy, conditions: conditions, grantRefusal: refusal))
                firstRefusal = firstRefusal ?? refusal
            }
        }
        if let firstRefusal {
            return PolicyDecision(evaluations: evaluations, result: .failure(firstRefusal))
        }
        let reasons = evaluations.map { evaluation in
            evaluation.failureSummary
        }
        let detail = reasons.isEmpty ? "issuer \(token.issuer.name) has no policies" : reasons.joined(separator: " | ")
        return PolicyDecision(
            evaluations: evaluations,
            result: .failure(ExchangeError(.noPolicyMatched, "subject token is not permitted by any trust policy", detail: detail))
        )
    }

    /// What `policy` issues for this request, or why it cannot.
    static func grant(
        policy: TrustPolicy,
        token: VerifiedToken,
        actor: VerifiedToken?,
        request: ExchangeRequest,
        now: Double
    ) -> Result<IssuedGrant, ExchangeError> {
        let grant = policy.grant
        let clientID: String
        let act: JSONValue?
        do {
            clientID = try self.clientID(policy: policy, token: token, request: request)
            act = try actClaim(policy: policy, token: token, actor: actor)
        } catch {
            return .failure(error)
        }
        let requestedTargets = request.audiences + request.resources
        let audiences: [String]
        if requestedTargets.isEmpty {
            audiences = [grant.audiences[0]]
        } else {
            guard requestedTargets.allSatisfy({ target in grant.audiences.contains { $0.isCodePointEqual(to: target) } }) else {
                return .failure(
                    ExchangeError(.targetNotAllowed, "requested audience is not allowed", detail: "policy \(policy.name) grants \(grant.audiences)")
                )
            }
            var seen = Set<String>()
            audiences = requestedTargets.filter { seen.insert($0).inserted }
        }
        let scopes: [String]
        if let requested = request.scopes {
            guard requested.allSatisfy(grant.scopes.contains) else {
                return .failure(
                    ExchangeError(.scopeNotAllowed, "requested scope is not allowed", detail: "policy \(policy.name) grants \(grant.scopes)")
                )
            }
            var seen = Set<String>()
            scopes = requested.filter { seen.insert($0).inserted }
        } else {
            scopes = grant.defaultScopes ?? grant.scopes
        }
        guard let subject = token.claims.value(at: grant.subjectClaim)?.stringValue, TokenLimits.isUsableSubject(subject) else {
            return .failure(
                ExchangeError(
                    .tokenClaimsInvalid,
                    "subject token lacks a claim the trust policy requires",
                    detail: "policy \(policy.name) issues sub from \(grant.subjectClaim)"
                )
            )
        }
        var mapped: [String: JSONValue] = [:]
        for (name, path) in grant.mappedClaims {
            if let value = token.claims.value(at: path) { mapped[name] = value }
        }
        let issuedAt = Int(now.rounded(.down))
        var latest = now + Double(grant.maxLifetime)
        if !grant.mayOutliveSubjectToken {
            // A delegated token lives no longer than either token it was made from.
            latest = min(latest, token.expiresAt, actor?.expiresAt ?? .infinity)
        }
        let expiresAt = Int(latest.rounded(.down))
        guard expiresAt - issuedAt >= 1 else {
            return .failure(ExchangeError(.tokenExpired, "subject token expired", detail: "no lifetime left to issue"))
        }
        return .success(
            IssuedGrant(
                policy: policy,
                subject: subject,
                audiences: audiences,
                scopes: scopes,
                clientID: clientID,
                issuedAt: issuedAt,
                expiresAt: expiresAt,
                mappedClaims: mapped,
                actor: act
            )
        )
    }

    /// The policy's client id for this token; a `client_id` the request sent must be it.
    private static func clientID(policy: TrustPolicy, token: VerifiedToken, request: ExchangeRequest) throws(ExchangeError) -> String {
        var expected = policy.grant.clientID
        if let path = policy.grant.clientIDClaim {
            guard let value = token.claims.value(at: path)?.stringValue, TokenLimits.isUsableSubject(value) else {
                throw ExchangeError(
                    .tokenClaimsInvalid,
                    "subject token lacks a claim the trust policy requires",
                    detail: "policy \(policy.name) takes client_id from \(path)"
                )
            }
            expected = value
        }
        if let sent = request.clientID, !sent.isCodePointEqual(to: expected) {
            throw ExchangeError(
                .clientIDMismatch,
                "client_id is not the one the trust policy names",
                detail: "policy \(policy.name) expects client_id \(expected.debugDescription)"
            )
        }
        return expected
    }

    /// The issued `act` claim: the admitted actor with the subject token's own `act` nested as the earlier
    /// actors; without an actor token, the subject token's `act` carries over unchanged.
    private static func actClaim(policy: TrustPolicy, token: VerifiedToken, actor: VerifiedToken?) throws(ExchangeError) -> JSONValue? {
        let earlier = token.claims.value(at: ClaimPath(["act"])).flatMap { $0.objectValue == nil ? nil : $0 }
        guard let actor else { return earlier }
        let refused = { (detail: String) in
            ExchangeError(.actorNotPermitted, "actor is not permitted to act for the subject", detail: "policy \(policy.name): \(detail)")
        }
        guard let delegation = policy.delegation else { throw refused("the policy allows no delegation") }
        let rules = delegation.actors.filter { $0.issuer == actor.issuer.name }
        let admitted = rules.contains { rule in rule.conditions.allSatisfy { $0.evaluate(actor.claims).passed } }
        guard admitted else {
            let reasons = rules.flatMap { $0.conditions.map { $0.evaluate(actor.claims) }.filter { !$0.passed }.map(\.reason) }
            throw refused(
                rules.isEmpty
                    ? "no actor rule for issuer \(actor.issuer.name)" : "actor conditions failed: " + reasons.joined(separator: "; ")
            )
        }
        if let mayAct = token.claims.value(at: ClaimPath(["may_act"])) {
            guard let allowed = mayAct.objectValue else { throw refused("the subject token's may_act is not an object") }
            // A restriction wif cannot check is not ignored: may_act must name the actor by sub (and may by iss).
            guard allowed["sub"] != nil, Set(allowed.keys).isSubset(of: ["sub", "iss"]) else {
                throw refused("the subject token's may_act names the actor by something other than sub and iss")
            }
            if let sub = allowed["sub"], sub.stringValue.map({ $0.isCodePointEqual(to: actor.subject) }) != true {
                throw refused("the subject token's may_act names another sub")
            }
            if let iss = allowed["iss"], iss.stringValue.map({ $0.isCodePointEqual(to: actor.issuer.issuer) }) != true {
                throw refused("the subject token's may_act names another iss")
            }
        }
        var act: [String: JSONValue] = ["sub": .string(actor.subject), "iss": .string(actor.issuer.issuer)]
        act["act"] = earlier
        return .object(act)
    }
}
