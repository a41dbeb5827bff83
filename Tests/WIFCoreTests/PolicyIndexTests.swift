import Testing
import WIFCore
import WIFTesting

/// IssuerPolicies: a request evaluates only the policies keyed by its own claim values (and those without a
/// key), in configured order, and decides exactly as evaluating every policy would.
@Suite struct PolicyIndexTests {
    static func policy(_ name: String, mode: TrustPolicy.Mode = .enforce, _ conditions: [ClaimCondition]) -> TrustPolicy {
        TrustPolicy(
            name: name,
            issuer: "cluster",
            conditions: conditions,
            grant: .init(audiences: ["https://api.internal"], scopes: ["read"], clientID: name),
            mode: mode
        )
    }

    static func condition(_ path: [String], _ matcher: ClaimCondition.Matcher) -> ClaimCondition {
        ClaimCondition(claim: ClaimPath(path), matcher: matcher)
    }

    static let policies = [
        policy("a", [condition(["sub"], .equals("system:serviceaccount:demo:app"))]),
        policy("b", [condition(["kubernetes.io", "namespace"], .equals("prod")), condition(["sub"], .glob(GlobPattern("*")))]),
        policy("c", [condition(["sub"], .glob(GlobPattern("system:serviceaccount:demo:*")))]),
        policy("d", [condition(["sub"], .regex(try! AnchoredRegex("x.*"))), condition(["sub"], .oneOf(["system:serviceaccount:demo:app", "y"]))]),
        policy("e", mode: .audit, [condition(["sub"], .equals("system:serviceaccount:demo:app"))]),
    ]

    static func request() throws -> ExchangeRequest {
        try ExchangeRequest(
            form: FormBody(pairs: [
                ("grant_type", GrantType.tokenExchange.rawValue), ("subject_token", "x"), ("subject_token_type", TokenTypeURI.jwt),
            ])
        )
    }

    @Test func candidatesAreTheKeyedMatchesAndTheUnkeyedInOrder() {
        let index = IssuerPolicies(Self.policies)
        #expect(index.enforced.map(\.name) == ["a", "b", "c", "d"])
        #expect(index.audit.map(\.name) == ["e"])
        #expect(index.all.map(\.name) == ["a", "b", "c", "d", "e"])
        let demo = Fixtures.claims()
        #expect(index.candidates(for: demo).map(\.name) == ["a", "c", "d"])
        let prod = Fixtures.claims(["sub": "y", "kubernetes.io": ["namespace": "prod"]])
        #expect(index.candidates(for: prod).map(\.name) == ["b", "c", "d"])
        #expect(index.candidates(for: Fixtures.claims(["sub": nil])).map(\.name) == ["c"])
    }

    @Test func aGrantComesFromTheCandidatesAndARefusalExplainsEveryPolicy() throws {
        let request = try Self.request()
        let index = IssuerPolicies(Self.policies)
        let granted = PolicyEvaluator.decide(token: Fixtures.verified(), request: request, policies: index, now: Fixtures.now)
        #expect(try granted.result.get().policy.name == "a")
        #expect(granted.evaluations.map(\.policy.name) == ["a"])
        #expect(granted.shadow.map(\.policy.name) == ["e"])

        let stranger = Fixtures.verified(Fixtures.claims(["sub": "system:serviceaccount:other:app"]))
        let refused = PolicyEvaluator.decide(token: stranger, request: request, policies: index, now: Fixtures.now)
        #expect(refused.result.failureCode == .noPolicyMatched)
        #expect(refused.evaluations.map(\.policy.name) == ["a", "b", "c", "d"], "a refusal's trace covers every enforced policy")
    }

    @Test func explainShowsAPolicyTheIndexSkippedAsNotMatchedAndThoseAfterTheGrantAsNotReached() throws {
        let policies = [
            Self.policy("other", [Self.condition(["sub"], .equals("system:serviceaccount:prod:app"))]),
            Self.policy("a", [Self.condition(["sub"], .equals("system:serviceaccount:demo:app"))]),
            Self.policy("later", [Self.condition(["sub"], .equals("system:serviceaccount:prod:app"))]),
        ]
        let token = Fixtures.verified()
        let decision = PolicyEvaluator.decide(token: token, request: try Self.request(), policies: IssuerPolicies(policies), now: Fixtures.now)
        let trace = DecisionTrace(
            evaluations: decision.evaluations,
            result: decision.result,
            grant: .tokenExchange,
            policies: policies,
            claims: token.claims
        )
        #expect(trace.policies.map(\.status) == [.notMatched, .granted, .notReached])
    }

    /// Random configs and tokens over a small vocabulary: the indexed decision is the first policy, in
    /// order, whose conditions all hold, exactly as a plain scan finds it.
    @Test func decidesAsAPlainScanDoes() throws {
        var random = SeededRandom(seed: 0x5EED)
        let subjects: [JSONValue] = ["s1", "s2", "s3", "s4"]
        let namespaces: [JSONValue] = ["n1", "n2", "n3"]
        func condition() -> ClaimCondition {
            switch random.next(6) {
            case 0: Self.condition(["sub"], .equals(subjects[random.next(4)]))
            case 1: Self.condition(["sub"], .oneOf([subjects[random.next(4)], subjects[random.next(4)]]))
            case 2: Self.condition(["ns"], .equals(namespaces[random.next(3)]))
            case 3: Self.condition(["ns"], .oneOf([namespaces[random.next(3)]]))
            case 4: Self.condition(["sub"], .glob(GlobPattern(random.next(2) == 0 ? "s*" : "s1")))
            default: Self.condition(["groups"], .contains(namespaces[random.next(3)]))
            }
        }
        let request = try Self.request()
        for round in 0..<200 {
            let policies = (0..<(1 + random.next(30))).map { index in
                Self.policy("p\(index)", mode: random.next(8) == 0 ? .audit : .enforce, (0..<(1 + random.next(3))).map { _ in condition() })
            }
            let index = IssuerPolicies(policies)
            for _ in 0..<10 {
                var claims = Fixtures.claims(["sub": subjects[random.next(4)], "groups": [namespaces[random.next(3)]]]).objectValue!
                if random.next(4) > 0 { claims["ns"] = namespaces[random.next(3)] }
                let token = Fixtures.verified(.object(claims))
                let expected = policies.first { policy in
                    policy.mode == .enforce && policy.conditions.allSatisfy { $0.evaluate(token.claims).passed }
                }
                let decision = PolicyEvaluator.decide(token: token, request: request, policies: index, now: Fixtures.now)
                let granted = try? decision.result.get().policy.name
                #expect(granted == expected?.name, "round \(round)")
                if expected == nil { #expect(decision.evaluations.count == index.enforced.count) }
            }
        }
    }
}

/// A small deterministic generator (SplitMix64), so a failure repeats.
struct SeededRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }
}
