/// One condition of a trust policy: a claim path and how its value must look.
public struct ClaimCondition: Sendable, Hashable, CustomStringConvertible {
    public let claim: ClaimPath
    public let matcher: Matcher

    public init(claim: ClaimPath, matcher: Matcher) {
        self.claim = claim
        self.matcher = matcher
    }

    /// How a claim value is compared. No matcher coerces types: `"true"` never equals JSON `true`, and an
    /// array claim only matches `contains` (security-cases.md case 75).
    public enum Matcher: Sendable, Hashable, CustomStringConvertible {
        /// The claim equals this JSON value exactly.
        case equals(JSONValue)
        /// The claim equals one of these values.
        case oneOf([JSONValue])
        /// The claim is a string matching a glob: `*` is any run of characters and `?` one character,
        /// neither crossing `:` or `/`.
        case glob(GlobPattern)
        /// The claim is a string wholly matching this regular expression (anchored as `^(?:p)$`).
        case regex(AnchoredRegex)
        /// The claim is an array with an element equal to this value.
        case contains(JSONValue)

        public var description: String {
            switch self {
            case .equals(let v): "equals \(v.displayText)"
            case .oneOf(let vs): "one of \(JSONValue.array(vs).displayText)"
            case .glob(let g): "glob \(JSONValue.string(g.pattern).displayText)"
            case .regex(let r): "regex \(JSONValue.string(r.pattern).displayText)"
            case .contains(let v): "contains \(v.displayText)"
            }
        }
    }

    public var description: String { "\(claim) \(matcher)" }

    /// Evaluates this condition against a token's claims.
    public func evaluate(_ claims: JSONValue) -> ConditionResult {
        guard let actual = claims.value(at: claim) else {
            return ConditionResult(condition: self, actual: nil, passed: false)
        }
        let passed: Bool
        switch matcher {
        case .equals(let expected): passed = actual == expected
        case .oneOf(let options): passed = options.contains(actual)
        case .glob(let pattern): passed = actual.stringValue.map(pattern.matches) ?? false
        case .regex(let regex): passed = actual.stringValue.map(regex.matches) ?? false
        case .contains(let element): passed = actual.arrayValue?.contains(element) ?? false
        }
        return ConditionResult(condition: self, actual: actual, passed: passed)
    }
}

/// The outcome of one condition, with the actual value for `explain` and the audit log.
public struct ConditionResult: Sendable, Hashable {
    public let condition: ClaimCondition
    public let actual: JSONValue?
    public let passed: Bool

    /// Why, in words: written only when someone reads it (explain, the audit log's trace), not for every
    /// condition a request evaluates.
    public var reason: String {
        guard let actual else { return "claim \(condition.claim) is missing" }
        return passed
            ? "claim \(condition.claim) \(condition.matcher)" : "claim \(condition.claim) is \(actual.displayText), expected \(condition.matcher)"
    }
}

extension ClaimCondition {
    /// Claims every token of an issuer carries alike; a condition on them alone admits the whole issuer.
    static let issuerWideClaims: Set<String> = ["iss", "aud", "exp", "iat", "nbf", "jti"]

    /// Whether this condition tells one workload from another: not on an issuer-wide claim, and not a
    /// pattern that matches anything (`*`, `.*`).
    public var narrowsIdentity: Bool {
        guard let first = claim.segments.first, !(claim.segments.count == 1 && Self.issuerWideClaims.contains(first)) else { return false }
        switch matcher {
        case .glob(let pattern): return !pattern.isWildcardOnly
        case .regex(let regex): return ![".*", ".+", "(.*)", "(.+)", "[\\s\\S]*", "(?s).*"].contains(regex.pattern)
        default: return true
        }
    }
}
