/// One issuer's policies, prepared once per trust-config so that a request's cost does not grow with their
/// number: the enforced policies keyed by their first exact condition (`equals` or `one_of` on one claim),
/// and the `mode: audit` ones apart.
///
/// A policy whose key condition the token fails can never match it, so evaluating only the *candidates*
/// (the policies keyed by the token's own values, and every policy without a key) in their configured order
/// reaches the same first match as evaluating all of them. Only a refusal needs them all, for its complete
/// explanation (``PolicyEvaluator/decide(token:actor:request:policies:now:)``).
public struct IssuerPolicies: Sendable {
    /// Every policy of the issuer, in order.
    public let all: [TrustPolicy]
    /// The `mode: enforce` policies, in order.
    public let enforced: [TrustPolicy]
    /// The `mode: audit` policies, in order.
    public let audit: [TrustPolicy]
    /// Per key claim path: the enforced policies (indices into ``enforced``) keyed by each value.
    private let keyed: [ClaimPath: [JSONValue: [Int]]]
    /// Enforced policies without a key condition (indices into ``enforced``).
    private let unkeyed: [Int]

    public init(_ policies: [TrustPolicy]) {
        all = policies
        enforced = policies.filter { $0.mode == .enforce }
        audit = policies.filter { $0.mode == .audit }
        var keyed: [ClaimPath: [JSONValue: [Int]]] = [:]
        var unkeyed: [Int] = []
        for (index, policy) in enforced.enumerated() {
            guard let (path, values) = Self.key(of: policy) else {
                unkeyed.append(index)
                continue
            }
            for value in Set(values) { keyed[path, default: [:]][value, default: []].append(index) }
        }
        self.keyed = keyed
        self.unkeyed = unkeyed
    }

    /// The enforced policies that can match `claims`, in configured order.
    public func candidates(for claims: JSONValue) -> [TrustPolicy] {
        guard !keyed.isEmpty else { return enforced }
        var indices = unkeyed
        for (path, byValue) in keyed {
            if let value = claims.value(at: path), let matching = byValue[value] { indices += matching }
        }
        if indices.count == enforced.count { return enforced }
        return indices.sorted().map { enforced[$0] }
    }

    /// A policy's key: its first condition that accepts only listed values of one claim.
    static func key(of policy: TrustPolicy) -> (ClaimPath, [JSONValue])? {
        for condition in policy.conditions {
            switch condition.matcher {
            case .equals(let value): return (condition.claim, [value])
            case .oneOf(let values): return (condition.claim, values)
            case .glob, .regex, .contains: continue
            }
        }
        return nil
    }
}
