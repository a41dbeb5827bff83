extension ExplainReport {
    /// The report for people: sections Token, Issuer, Signature, Claims, Policies, Decision, Issued token.
    public func text() -> String {
        var out: [String] = []
        func section(_ title: String) {
            if !out.isEmpty { out.append("") }
            out.append(title)
        }
        func block(_ value: JSONValue, indent: String) {
            out += value.prettyPrinted().split(separator: "\n", omittingEmptySubsequences: false).map { indent + $0 }
        }

        section("Token")
        if let header {
            out.append("  header: " + header.prettyPrinted(indent: "  "))
        } else {
            out.append("  header: (not base64url JSON)")
        }
        if let claims {
            out.append("  claims:")
            block(claims, indent: "    ")
        } else {
            out.append("  claims: (not base64url JSON)")
        }
        if let tokenRefusal {
            out.append("  REFUSED before anything else: \(tokenRefusal.code.rawValue): \(tokenRefusal.description)")
            if let detail = tokenRefusal.detail { out.append("    detail: \(detail)") }
        }

        section("Issuer")
        if let name = issuer.name {
            out.append("  iss \(issuer.iss?.debugDescription ?? "?") is issuer \(name) (keys: \(issuer.keySource ?? "?"))")
        } else if tokenRefusal != nil, issuer.iss == nil {
            out.append("  unknown: the token could not be read")
        } else {
            out.append("  iss \(issuer.iss.map(\.debugDescription) ?? "(missing)") is not configured. Configured issuers:")
            out += issuer.configured.map { "    \($0)" }
            if let hint = issuer.hint { out.append("  hint: \(hint)") }
        }

        if !signature.isEmpty {
            section("Signature (keys from \(keysFrom))")
            out += Self.rows(signature)
        }
        if !claimChecks.isEmpty {
            section("Claims (at \(Instant.format(at)))")
            out += Self.rows(claimChecks)
        }

        if let policies, let issuerName = issuer.name {
            if let hypotheticalBecause {
                section("Policies of \(issuerName), in order: HYPOTHETICAL, as if the token and request were acceptable")
                out.append("  (they are not, and the server stops before any policy: \(hypotheticalBecause))")
            } else {
                section("Policies of \(issuerName), in order")
            }
            if policies.policies.isEmpty { out.append("  (none: no policy names issuer \(issuerName))") }
            for (index, policy) in policies.policies.enumerated() {
                out.append("  \(index + 1). \(policy.name): \(Self.status(policy, hypothetical: hypotheticalBecause != nil))")
                let claims = policy.conditions.map(\.claim.description)
                let expectations = policy.conditions.map { "\($0.matcher) \($0.expected.displayText)" }
                let claimWidth = claims.map(\.count).max() ?? 0
                let expectedWidth = expectations.map(\.count).max() ?? 0
                for (index, condition) in policy.conditions.enumerated() {
                    out.append(
                        "       \(condition.passed ? "pass" : "FAIL")  \(Self.padded(claims[index], claimWidth))  "
                            + "\(Self.padded(expectations[index], expectedWidth))  actual \(condition.actual?.displayText ?? "(missing)")"
                    )
                }
                if let refusal = policy.refusal {
                    out.append("       grant refused: \(refusal.code.rawValue): \(refusal.description)\(refusal.detail.map { " (\($0))" } ?? "")")
                }
            }
            if hypotheticalBecause != nil {
                out.append("  if the token were valid: \(Self.verdictLine(policies.verdict))")
            }
            if let closest = policies.closest, hypotheticalBecause == nil, closest.status == .notMatched {
                let failed = closest.failedConditions
                out.append(
                    "  closest: \(closest.name), \(failed.count) of \(closest.conditions.count) condition\(closest.conditions.count == 1 ? "" : "s") failed: "
                        + failed.map(\.reason).joined(separator: "; ")
                )
            }
        }

        section("Decision")
        switch decision {
        case .granted(let grant):
            out.append("  GRANTED by policy \(grant.policy)")
            out.append("    sub        \(grant.subject)")
            out.append("    audience   \(grant.audiences.joined(separator: " "))")
            out.append("    scope      \(grant.scopes.isEmpty ? "(none)" : grant.scopes.joined(separator: " "))")
            out.append("    client_id  \(grant.clientID)")
            out.append("    expires    \(Instant.describe(Double(grant.expiresAt), relativeTo: Double(grant.issuedAt)))")
        case .denied(let refusal):
            out.append("  DENIED: \(refusal.code.rawValue) (stage: \(refusal.stage))")
            out.append(
                "    the client gets HTTP \(refusal.status) {\"error\":\"\(refusal.oauthError)\",\"error_description\":\"\(refusal.description)\"}"
            )
            if let detail = refusal.detail { out.append("    audit detail: \(detail)") }
        }

        if let issuedClaims {
            section("Issued token claims (not signed)")
            block(issuedClaims, indent: "  ")
        }
        return out.joined(separator: "\n")
    }

    private static func padded(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - text.count))
    }

    private static func rows(_ steps: [VerificationStep]) -> [String] {
        let width = steps.map(\.check.count).max() ?? 0
        return steps.map { step in
            let mark =
                switch step.result {
                case .passed: "pass"
                case .failed: "FAIL"
                case .skipped: "skip"
                }
            let code = step.result == .failed ? step.code.map { " [\($0.rawValue)]" } ?? "" : ""
            return "  \(mark)  \(step.check)\(String(repeating: " ", count: width - step.check.count))  \(step.detail)\(code)"
        }
    }

    private static func status(_ policy: PolicyTrace, hypothetical: Bool) -> String {
        switch policy.status {
        case .granted: hypothetical ? "matched, would grant" : "matched, GRANTED"
        case .refused: "matched, but the grant cannot serve the request"
        case .notMatched:
            "not matched (\(policy.failedConditions.count) of \(policy.conditions.count) condition\(policy.conditions.count == 1 ? "" : "s") failed)"
        case .notReached: "not reached (an earlier policy granted)"
        case .auditWouldGrant: "mode audit: WOULD GRANT if enforced (audit policies never grant)"
        case .auditWouldDeny: "mode audit: would not grant either (audit policies never grant)"
        }
    }

    private static func verdictLine(_ verdict: DecisionTrace.Verdict) -> String {
        switch verdict {
        case .granted(let grant): "granted by \(grant.policy)"
        case .denied(let refusal): "denied, \(refusal.code.rawValue): \(refusal.description)"
        }
    }
}
