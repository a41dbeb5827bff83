/// One check of a subject token, as `wif explain` lists them: the header and signature checks, then each
/// claim check, in the order the pipeline runs them.
public struct VerificationStep: Sendable, Hashable {
    public enum Result: String, Sendable, Hashable {
        case passed
        case failed
        /// Not run, because an earlier step failed (the server would not get this far either).
        case skipped
    }

    /// What is checked: `typ`, `alg`, `keys`, `kid`, `signature`, `exp`, `nbf`, `iat`, `max_token_age`,
    /// `pod_binding`, `lifetime`, `aud`, `sub`, `jti`.
    public let check: String
    public let result: Result
    public let detail: String
    /// The reason the pipeline refuses with when this check fails.
    public let code: ExchangeError.Code?

    public init(_ check: String, _ result: Result, _ detail: String, code: ExchangeError.Code? = nil) {
        self.check = check
        self.result = result
        self.detail = detail
        self.code = code
    }

    static func check(_ check: String, _ passed: Bool, _ detail: String, code: ExchangeError.Code) -> VerificationStep {
        VerificationStep(check, passed ? .passed : .failed, detail, code: code)
    }

    /// `{"check", "result", "detail", "error"}` (`error`: the reason code when it failed).
    public var json: JSONValue {
        [
            "check": .string(check),
            "result": .string(result.rawValue),
            "detail": .string(detail),
            "error": result == .failed ? code.map { .string($0.rawValue) } ?? .null : .null,
        ]
    }
}

/// Which configured issuer a token's `iss` selects, or why none does.
public struct IssuerMatch: Sendable, Hashable {
    /// The token's `iss`, when it is a string.
    public let iss: String?
    /// The configured issuer's name, when `iss` matched one exactly.
    public let name: String?
    /// Where that issuer's keys come from (`discovery`, `jwks_url …`, `jwks_file …`, `development`).
    public let keySource: String?
    /// Every configured `issuer` value, when `iss` matched none.
    public let configured: [String]
    /// A near miss: a configured issuer that differs only by case, a trailing `/` or spaces.
    public let hint: String?

    public var json: JSONValue {
        [
            "iss": iss.map(JSONValue.string) ?? .null,
            "name": name.map(JSONValue.string) ?? .null,
            "key_source": keySource.map(JSONValue.string) ?? .null,
            "configured": .array(configured.map(JSONValue.string)),
            "hint": hint.map(JSONValue.string) ?? .null,
        ]
    }
}

/// Everything `wif explain` says about one token and request: what the token is, which issuer it maps to,
/// whether it verifies and why not, how every policy of that issuer fared, the decision the server would
/// make, and the token it would issue.
///
/// Built by ``TokenExplainer``; ``text()`` renders it for people and ``json`` for tools (stable keys).
public struct ExplainReport: Sendable {
    /// The instant the token was evaluated at.
    public let at: Double
    public let request: TokenRequestParameters
    /// The token's header and claims as decoded, even when the strict parser refuses the token.
    public let header: JSONValue?
    public let claims: JSONValue?
    /// Why the token could not even be parsed (malformed, too large, unsupported header…).
    public let tokenRefusal: RefusalTrace?
    public let issuer: IssuerMatch
    /// Where the keys were taken from (the issuer's key source as the server fetches it, or an offline file).
    public let keysFrom: String
    /// `typ`, `alg`, `keys`, `kid`, `signature`.
    public let signature: [VerificationStep]
    /// `exp`, `nbf`, `iat`, … in pipeline order; empty without an issuer.
    public let claimChecks: [VerificationStep]
    /// The token passed every verification step: signature, time claims, audience, subject.
    public let verified: Bool
    /// Every policy of the issuer, or nil when the token maps to no issuer.
    public let policies: DecisionTrace?
    /// Why ``policies`` were evaluated only as if the token (and request) were acceptable, or nil when they
    /// are the real evaluation.
    public let hypotheticalBecause: String?
    /// What the server would answer.
    public let decision: DecisionTrace.Verdict
    /// The claims of the token the server would issue (not signed).
    public let issuedClaims: JSONValue?

    /// The report with stable keys: `at`, `at_rfc3339`, `request`, `token` {`header`, `claims`, `refusal`},
    /// `issuer`, `keys_from`, `signature` [...], `claim_checks` [...], `verified`, `policies` {...},
    /// `hypothetical`, `hypothetical_because`, `decision`, `issued_token` {`claims`}.
    public var json: JSONValue {
        [
            "at": .number(at),
            "at_rfc3339": .string(Instant.format(at)),
            "request": request.json,
            "token": [
                "header": header ?? .null,
                "claims": claims ?? .null,
                "refusal": tokenRefusal?.json ?? .null,
            ],
            "issuer": issuer.json,
            "keys_from": .string(keysFrom),
            "signature": .array(signature.map(\.json)),
            "claim_checks": .array(claimChecks.map(\.json)),
            "verified": .bool(verified),
            "policies": policies.map { trace in
                [
                    "evaluations": .array(trace.policies.map(\.json)),
                    "decision": trace.verdict.json,
                    "closest_policy": trace.closest.map { .string($0.name) } ?? .null,
                ]
            } ?? .null,
            "hypothetical": .bool(hypotheticalBecause != nil),
            "hypothetical_because": hypotheticalBecause.map(JSONValue.string) ?? .null,
            "decision": decision.json,
            "issued_token": issuedClaims.map { ["claims": $0] } ?? .null,
        ]
    }
}
