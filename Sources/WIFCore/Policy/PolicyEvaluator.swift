/// How one policy fared against a token and request.
public struct PolicyEvaluation: Sendable {
    public let policy: TrustPolicy
    /// Every condition's result, in policy order (all are evaluated, for `explain`).
    public let conditions: [ConditionResult]
    /// Why the policy matched but could not serve the request (audience or scope refused).
    public let grantRefusal: ExchangeError?

    public var matched: Bool { conditions.allSatisfy(\.passed) }
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

    public var lifetime: Int { expiresAt - issuedAt }
}

/// The decision for one exchange: the grant, or the error, and every policy's evaluation as the reasons.
public struct PolicyDecision: Sendable {
    public let evaluations: [PolicyEvaluation]
    public let result: Result<IssuedGrant, ExchangeError>
}

/// Evaluates an issuer's policies for a verified token (STYLE.md habit 3: results with reasons).
public enum PolicyEvaluator {
    /// Policies are tried in order; the first whose conditions all hold and whose grant allows the requested
    /// audiences and scopes is used, and only its grant (never a union). When policies match but none can
    /// serve the request, the first matching policy's refusal is the answer.
    public static func decide(token: VerifiedToken, request: ExchangeRequest, policies: [TrustPolicy], now: Double) -> PolicyDecision {
        var evaluations: [PolicyEvaluation] = []
        var firstRefusal: ExchangeError?
        for policy in policies {
            let conditions = policy.conditions.map { $0.evaluate(token.claims) }
            guard conditions.allSatisfy(\.passed) else {
                evaluations.append(PolicyEvaluation(policy: policy, conditions: conditions, grantRefusal: nil))
                continue
            }
            switch grant(policy: policy, token: token, request: request, now: now) {
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
            "\(evaluation.policy.name): " + evaluation.conditions.filter { !$0.passed }.map(\.reason).joined(separator: "; ")
        }
        let detail = reasons.isEmpty ? "issuer \(token.issuer.name) has no policies" : reasons.joined(separator: " | ")
        return PolicyDecision(
            evaluations: evaluations,
            result: .failure(ExchangeError(.noPolicyMatched, "subject token is not permitted by any trust policy", detail: detail))
        )
    }

    /// What `policy` issues for this request, or why it cannot.
    static func grant(policy: TrustPolicy, token: VerifiedToken, request: ExchangeRequest, now: Double) -> Result<IssuedGrant, ExchangeError> {
        let grant = policy.grant
        let requestedTargets = request.audiences + request.resources
        for resource in request.resources where !isAbsoluteURIWithoutFragment(resource) {
            return .failure(ExchangeError(.targetNotAllowed, "requested resource is not a valid absolute URI", detail: "policy \(policy.name)"))
        }
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
        if !grant.mayOutliveSubjectToken { latest = min(latest, token.expiresAt) }
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
                clientID: grant.clientID,
                issuedAt: issuedAt,
                expiresAt: expiresAt,
                mappedClaims: mapped
            )
        )
    }

    private static func isAbsoluteURIWithoutFragment(_ text: String) -> Bool {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex, !text.contains("#") else { return false }
        let scheme = text[..<colon]
        guard let first = scheme.unicodeScalars.first, ("a"..."z").contains(first) || ("A"..."Z").contains(first) else { return false }
        let schemeOK = scheme.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "+-.".unicodeScalars.contains($0)
        }
        let rest = text[text.index(after: colon)...]
        return schemeOK && !rest.isEmpty && !["javascript", "data"].contains(scheme.lowercased())
            && rest.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F }
    }
}
