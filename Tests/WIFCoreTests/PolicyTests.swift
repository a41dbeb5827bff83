import Testing
import WIFCore

@Suite("GlobPattern: whole-string globs that never cross ':' or '/'")
struct GlobPatternTests {
    @Test(
        "matches",
        arguments: [
            ("repo:acme/app:ref:refs/heads/main", "repo:acme/app:ref:refs/heads/main"),
            ("repo:acme/*:ref:refs/heads/main", "repo:acme/app:ref:refs/heads/main"),
            ("repo:acme/app*", "repo:acme/app"),
            ("repo:acme/app*", "repo:acme/app-two"),
            ("repo:acme/*", "repo:acme/x"),
            ("system:serviceaccount:demo:*", "system:serviceaccount:demo:app"),
            ("system:serviceaccount:*:app", "system:serviceaccount:prod:app"),
            ("v?.*", "v1.2"),
            ("*", "anything-without-separators"),
            ("*", ""),
            ("a**b", "axxb"),
            ("literal\\*star", "literal*star"),
            ("literal\\?", "literal?"),
            ("trailing\\", "trailing\\"),
            ("é*", "école"),
        ]
    )
    func matches(pattern: String, text: String) {
        #expect(GlobPattern(pattern).matches(text))
    }

    @Test(
        "does not match",
        arguments: [
            // security-cases.md case 70: a glob does not cross ':'.
            ("repo:acme/app*", "repo:acme/app-evil:ref:refs/heads/main"),
            ("repo:acme/app*", "repo:acme/app:ref:refs/heads/main"),
            // ... nor '/'.
            ("repo:acme/*", "repo:acme/app/extra"),
            ("repo:*:ref:refs/heads/main", "repo:evil/app:ref:refs/heads/main"),
            ("refs/heads/*", "refs/heads/x/refs/tags/v1"),
            ("system:serviceaccount:demo:*", "system:serviceaccount:demo:app:extra"),
            ("?", ":"),
            ("?", "/"),
            ("a?b", "a/b"),
            ("*", "a:b"),
            ("*", "a/b"),
            // Whole-string: no prefix or suffix slack.
            ("main", "main-x"),
            ("main", "x-main"),
            ("v?", "v"),
            ("v?", "v12"),
            // Escapes are literal.
            ("literal\\*star", "literalXstar"),
            // Exact code points: no case folding, no Unicode equivalence.
            ("prod", "Prod"),
            ("prod", "ｐｒｏｄ"),
            ("prod", "prod "),
            ("caf\u{E9}", "cafe\u{301}"),
        ]
    )
    func doesNotMatch(pattern: String, text: String) {
        #expect(!GlobPattern(pattern).matches(text))
    }

    @Test("knows a wildcard-only pattern")
    func wildcardOnly() {
        #expect(GlobPattern("*").isWildcardOnly)
        #expect(GlobPattern("*?*").isWildcardOnly)
        #expect(!GlobPattern("a*").isWildcardOnly)
        #expect(!GlobPattern("\\*").isWildcardOnly)
    }

    @Test("runs in linear time on hostile input")
    func noBacktracking() {
        let pattern = GlobPattern(String(repeating: "*a", count: 50) + "b")
        let text = String(repeating: "a", count: 20_000)
        let start = ContinuousClock.now
        #expect(!pattern.matches(text))
        #expect(ContinuousClock.now - start < .seconds(5))
    }
}

@Suite("AnchoredRegex: whole-match regular expressions")
struct AnchoredRegexTests {
    @Test("an alternation matches only whole alternatives (security-cases.md case 68)")
    func alternation() throws {
        let regex = try AnchoredRegex("repo:o/a:ref:refs/heads/main|repo:o/a:ref:refs/heads/develop")
        #expect(regex.matches("repo:o/a:ref:refs/heads/main"))
        #expect(regex.matches("repo:o/a:ref:refs/heads/develop"))
        #expect(!regex.matches("repo:o/a:ref:refs/heads/main-x"))
        #expect(!regex.matches("x-repo:o/a:ref:refs/heads/develop"))
    }

    @Test("a suffix pattern does not match a longer value (security-cases.md case 69)")
    func suffix() throws {
        #expect(!(try AnchoredRegex("refs/tags/v1")).matches("refs/heads/x/refs/tags/v1"))
        #expect(try AnchoredRegex(".*refs/tags/v1").matches("refs/heads/x/refs/tags/v1"))
        #expect(!(try AnchoredRegex("refs/tags/v[0-9]+")).matches("refs/tags/v1\n"))
    }

    @Test("refuses a pattern that would close the anchoring group early", arguments: ["a)|(b", "a)", ")(", "(a|b"])
    func unbalanced(_ pattern: String) {
        #expect(throws: (any Error).self) { try AnchoredRegex(pattern) }
    }

    @Test("refuses a pattern that does not compile", arguments: ["[a-", "*a", "a{2,1}", "(?<n>a)(?<n>b)"])
    func invalid(_ pattern: String) {
        #expect(throws: (any Error).self) { try AnchoredRegex(pattern) }
    }

    @Test("explicit anchors inside the pattern still compile and match whole values")
    func explicitAnchors() throws {
        let regex = try AnchoredRegex("^prod$")
        #expect(regex.matches("prod"))
        #expect(!regex.matches("preprod"))
    }

    @Test("compares code points, not canonically equivalent characters (RFC 7519 §7.3)")
    func codePoints() throws {
        #expect(!(try AnchoredRegex("caf\u{E9}")).matches("cafe\u{301}"))
        #expect(!(try AnchoredRegex("cafe\u{301}")).matches("caf\u{E9}"))
        #expect(try AnchoredRegex("caf\u{E9}").matches("caf\u{E9}"))
    }

    @Test("equality and hashing follow the pattern text")
    func equality() throws {
        #expect(try AnchoredRegex("a|b") == AnchoredRegex("a|b"))
        #expect(try AnchoredRegex("a|b") != AnchoredRegex("b|a"))
        #expect(try AnchoredRegex("a|b").pattern == "a|b")
    }
}

@Suite("ClaimCondition: no coercion, exact values, nested paths")
struct ClaimConditionTests {
    static let claims: JSONValue = [
        "sub": "repo:acme/app:ref:refs/heads/main",
        "ns": "prod",
        "flag": true,
        "flagText": "true",
        "id": 123,
        "idText": "123",
        "groups": ["dev", "ops"],
        "kubernetes.io": ["namespace": "demo", "serviceaccount": ["name": "app"]],
        "kubernetes.io.namespace": "spoofed",
        "nothing": .null,
    ]

    static func condition(_ path: String..., matcher: ClaimCondition.Matcher) -> ClaimCondition {
        ClaimCondition(claim: ClaimPath(path), matcher: matcher)
    }

    static func passes(_ condition: ClaimCondition) -> Bool {
        condition.evaluate(claims).passed
    }

    @Test("equals compares whole JSON values")
    func equals() {
        #expect(Self.passes(Self.condition("ns", matcher: .equals("prod"))))
        #expect(Self.passes(Self.condition("flag", matcher: .equals(true))))
        #expect(Self.passes(Self.condition("id", matcher: .equals(123))))
        #expect(Self.passes(Self.condition("groups", matcher: .equals(["dev", "ops"]))))
        #expect(Self.passes(Self.condition("nothing", matcher: .equals(.null))))
        #expect(!Self.passes(Self.condition("groups", matcher: .equals(["ops", "dev"]))))
    }

    @Test(
        "never coerces types (security-cases.md case 75)",
        arguments: [
            Case<(String, JSONValue)>("string true vs JSON true", ("flag", "true")),
            Case<(String, JSONValue)>("JSON true vs string true", ("flagText", true)),
            Case<(String, JSONValue)>("string 123 vs number", ("id", "123")),
            Case<(String, JSONValue)>("number vs string 123", ("idText", 123)),
            Case<(String, JSONValue)>("array vs one element", ("groups", "dev")),
            Case<(String, JSONValue)>("null vs string", ("nothing", "null")),
        ]
    )
    func noCoercion(_ input: Case<(String, JSONValue)>) {
        let (claim, value) = input.value
        #expect(!Self.passes(Self.condition(claim, matcher: .equals(value))))
        #expect(!Self.passes(Self.condition(claim, matcher: .oneOf([value]))))
    }

    @Test("exact values only: case, width, spaces and Unicode forms differ (security-cases.md case 76)")
    func exactStrings() {
        for variant in ["Prod", "ｐｒｏｄ", "prod ", " prod", "pro", "prod\u{0}"] {
            #expect(!Self.passes(Self.condition("ns", matcher: .equals(.string(variant)))), "\(variant.debugDescription)")
        }
        let nfc: JSONValue = ["ns": "caf\u{E9}"]
        let nfd = ClaimCondition(claim: ClaimPath(["ns"]), matcher: .equals("cafe\u{301}"))
        #expect(!nfd.evaluate(nfc).passed)
        #expect(!ClaimCondition(claim: ClaimPath(["ns"]), matcher: .oneOf(["x", "cafe\u{301}"])).evaluate(nfc).passed)
        #expect(!ClaimCondition(claim: ClaimPath(["ns"]), matcher: .contains("cafe\u{301}")).evaluate(["ns": ["caf\u{E9}"]]).passed)
        #expect(ClaimCondition(claim: ClaimPath(["ns"]), matcher: .equals("caf\u{E9}")).evaluate(nfc).passed)
    }

    @Test("one_of matches any listed value")
    func oneOf() {
        #expect(Self.passes(Self.condition("ns", matcher: .oneOf(["staging", "prod"]))))
        #expect(!Self.passes(Self.condition("ns", matcher: .oneOf(["staging", "dev"]))))
    }

    @Test("contains matches an element of an array claim only")
    func contains() {
        #expect(Self.passes(Self.condition("groups", matcher: .contains("ops"))))
        #expect(!Self.passes(Self.condition("groups", matcher: .contains("admin"))))
        #expect(!Self.passes(Self.condition("ns", matcher: .contains("prod"))))
        #expect(!Self.passes(Self.condition("sub", matcher: .contains("repo"))))
    }

    @Test("glob and regex apply to strings only")
    func stringMatchers() throws {
        #expect(Self.passes(Self.condition("sub", matcher: .glob(GlobPattern("repo:acme/*:ref:refs/heads/main")))))
        #expect(!Self.passes(Self.condition("id", matcher: .glob(GlobPattern("*")))))
        #expect(!Self.passes(Self.condition("groups", matcher: .glob(GlobPattern("*")))))
        #expect(Self.passes(Self.condition("sub", matcher: .regex(try AnchoredRegex("repo:acme/[a-z]+:ref:refs/heads/main")))))
        #expect(!Self.passes(Self.condition("sub", matcher: .regex(try AnchoredRegex("repo:acme/[a-z]+")))))
        #expect(!Self.passes(Self.condition("id", matcher: .regex(try AnchoredRegex("[0-9]+")))))
    }

    @Test("nested paths follow members; a dotted top-level member is another claim (security-cases.md case 74)")
    func nestedPaths() {
        #expect(Self.passes(Self.condition("kubernetes.io", "namespace", matcher: .equals("demo"))))
        #expect(Self.passes(Self.condition("kubernetes.io", "serviceaccount", "name", matcher: .equals("app"))))
        #expect(!Self.passes(Self.condition("kubernetes.io", "namespace", matcher: .equals("spoofed"))))
        let flat: JSONValue = ["kubernetes.io.namespace": "prod", "kubernetes.io/serviceaccount/namespace": "prod"]
        #expect(!Self.condition("kubernetes.io", "namespace", matcher: .equals("prod")).evaluate(flat).passed)
    }

    @Test("a missing claim fails with a reason naming it")
    func missing() {
        let result = Self.condition("repository_id", matcher: .equals("1")).evaluate(Self.claims)
        #expect(!result.passed)
        #expect(result.actual == nil)
        #expect(result.reason == "claim repository_id is missing")
    }

    @Test("results carry the actual value and a readable reason")
    func reasons() {
        let failed = Self.condition("ns", matcher: .equals("dev")).evaluate(Self.claims)
        #expect(failed.actual == "prod")
        #expect(failed.reason == #"claim ns is "prod", expected equals "dev""#)
        let passed = Self.condition("kubernetes.io", "namespace", matcher: .oneOf(["demo"])).evaluate(Self.claims)
        #expect(passed.passed)
        #expect(passed.reason == #"claim [kubernetes.io][namespace] one of ["demo"]"#)
    }
}

@Suite("PolicyEvaluator: first match, subsets, lifetimes")
struct PolicyEvaluatorTests {
    static let now = Fixtures.now
    static let issuer = Fixtures.issuer()

    static func policy(
        _ name: String,
        sub: String = Fixtures.subject,
        audiences: [String] = ["https://api.internal", "https://other.internal"],
        scopes: [String] = ["read", "write"],
        defaultScopes: [String]? = nil,
        maxLifetime: Int = 3600,
        mayOutlive: Bool = false,
        subjectClaim: ClaimPath = ClaimPath(["sub"]),
        mappedClaims: [String: ClaimPath] = [:]
    ) -> TrustPolicy {
        TrustPolicy(
            name: name,
            issuer: "cluster",
            conditions: [ClaimCondition(claim: ClaimPath(["sub"]), matcher: .equals(.string(sub)))],
            grant: .init(
                audiences: audiences,
                scopes: scopes,
                defaultScopes: defaultScopes,
                maxLifetime: maxLifetime,
                mayOutliveSubjectToken: mayOutlive,
                subjectClaim: subjectClaim,
                mappedClaims: mappedClaims,
                clientID: "client-" + name
            )
        )
    }

    static func decide(
        _ policies: [TrustPolicy],
        request: ExchangeRequest = ExchangeRequest(subjectToken: "unused"),
        claims: JSONValue = Fixtures.claims(),
        now: Double = now
    ) -> PolicyDecision {
        PolicyEvaluator.decide(token: Fixtures.verified(claims), request: request, policies: policies, now: now)
    }

    static func grant(_ decision: PolicyDecision) throws -> IssuedGrant {
        try decision.result.get()
    }

    static func failure(_ decision: PolicyDecision) -> ExchangeError? {
        if case .failure(let error) = decision.result { return error }
        return nil
    }

    @Test("grants what the first matching policy allows")
    func grants() throws {
        let policy = Self.policy("app", mappedClaims: ["namespace": ClaimPath(["kubernetes.io", "namespace"]), "absent": ClaimPath(["nope"])])
        let grant = try Self.grant(Self.decide([policy]))
        #expect(grant.policy.name == "app")
        #expect(grant.subject == Fixtures.subject)
        #expect(grant.audiences == ["https://api.internal"])
        #expect(grant.scopes == ["read", "write"])
        #expect(grant.clientID == "client-app")
        #expect(grant.issuedAt == Int(Self.now))
        #expect(grant.mappedClaims == ["namespace": "demo"])
    }

    @Test("the first matching policy wins, and only its grant is issued (security-cases.md case 78)")
    func firstMatch() throws {
        let first = Self.policy("reader", scopes: ["read"])
        let second = Self.policy("writer", scopes: ["write"])
        let decision = Self.decide([first, second])
        let grant = try Self.grant(decision)
        #expect(grant.policy.name == "reader")
        #expect(grant.scopes == ["read"])
        #expect(decision.evaluations.map(\.policy.name) == ["reader"])
        #expect(try Self.grant(Self.decide([second, first])).policy.name == "writer")
    }

    @Test("non-matching policies are skipped and recorded with their failed conditions")
    func skipsNonMatching() throws {
        // A glob is no index key, so this policy is evaluated (and fails) before the one that grants.
        let other = TrustPolicy(
            name: "other",
            issuer: "cluster",
            conditions: [ClaimCondition(claim: ClaimPath(["sub"]), matcher: .glob(GlobPattern("system:serviceaccount:prod:*")))],
            grant: Self.policy("other").grant
        )
        let decision = Self.decide([other, Self.policy("app")])
        #expect(try Self.grant(decision).policy.name == "app")
        #expect(decision.evaluations.map(\.matched) == [false, true])
        #expect(decision.evaluations[0].conditions.first?.passed == false)
        // One keyed on another subject cannot match: a grant skips it without evaluating.
        let keyed = Self.decide([Self.policy("prod", sub: "system:serviceaccount:prod:app"), Self.policy("app")])
        #expect(keyed.evaluations.map(\.policy.name) == ["app"])
    }

    @Test("no matching policy is noPolicyMatched with every policy's reasons")
    func noMatch() {
        let decision = Self.decide([Self.policy("a", sub: "x"), Self.policy("b", sub: "y")])
        let error = Self.failure(decision)
        #expect(error?.code == .noPolicyMatched)
        #expect(error?.description == "subject token is not permitted by any trust policy")
        #expect(error?.detail?.contains("a: claim sub is") == true)
        #expect(error?.detail?.contains("b: claim sub is") == true)
        #expect(decision.evaluations.count == 2)
        #expect(Self.failure(Self.decide([]))?.code == .noPolicyMatched)
    }

    @Test("a requested scope beyond the grant is scopeNotAllowed")
    func scopeBeyondGrant() {
        let request = ExchangeRequest(subjectToken: "t", scopes: ["read", "admin"])
        let decision = Self.decide([Self.policy("app")], request: request)
        let error = Self.failure(decision)
        #expect(error?.code == .scopeNotAllowed)
        #expect(error?.description == "requested scope is not allowed")
        #expect(decision.evaluations.first?.grantRefusal?.code == .scopeNotAllowed)
        #expect(decision.evaluations.first?.matched == true)
    }

    @Test("a requested subset of scopes is issued as asked, duplicates once")
    func scopeSubset() throws {
        let request = ExchangeRequest(subjectToken: "t", scopes: ["write", "write"])
        #expect(try Self.grant(Self.decide([Self.policy("app")], request: request)).scopes == ["write"])
    }

    @Test("no requested scope issues the default scopes, else every granted scope")
    func defaultScopes() throws {
        #expect(try Self.grant(Self.decide([Self.policy("app", defaultScopes: ["read"])])).scopes == ["read"])
        #expect(try Self.grant(Self.decide([Self.policy("app", defaultScopes: [])])).scopes == [])
        #expect(try Self.grant(Self.decide([Self.policy("app")])).scopes == ["read", "write"])
    }

    @Test("an audience the grant does not name is targetNotAllowed, for the whole request")
    func audienceNotGranted() {
        for audiences in [
            ["https://evil.internal"], ["https://api.internal", "https://evil.internal"], ["https://api.internal https://other.internal"],
        ] {
            let request = ExchangeRequest(subjectToken: "t", audiences: audiences)
            let error = Self.failure(Self.decide([Self.policy("app")], request: request))
            #expect(error?.code == .targetNotAllowed)
            #expect(error?.description == "requested audience is not allowed")
        }
    }

    @Test("requested audiences compare code point by code point")
    func audienceCodePoints() {
        let request = ExchangeRequest(subjectToken: "t", audiences: ["https://caf\u{E9}.internal"])
        let policy = Self.policy("app", audiences: ["https://cafe\u{301}.internal"])
        #expect(Self.failure(Self.decide([policy], request: request))?.code == .targetNotAllowed)
    }

    @Test("without a requested audience the grant's first audience is issued")
    func defaultAudience() throws {
        #expect(try Self.grant(Self.decide([Self.policy("app")])).audiences == ["https://api.internal"])
    }

    @Test("requested audiences and resources are issued in order, duplicates once")
    func requestedTargets() throws {
        let request = ExchangeRequest(
            subjectToken: "t",
            audiences: ["https://other.internal", "https://api.internal", "https://other.internal"],
            resources: ["https://api.internal"]
        )
        #expect(try Self.grant(Self.decide([Self.policy("app")], request: request)).audiences == ["https://other.internal", "https://api.internal"])
    }

    @Test("when the first matching policy refuses, a later matching policy may serve the request")
    func laterPolicyServes() throws {
        let narrow = Self.policy("narrow", scopes: ["read"])
        let broad = Self.policy("broad", scopes: ["read", "write"])
        let request = ExchangeRequest(subjectToken: "t", scopes: ["write"])
        let decision = Self.decide([narrow, broad], request: request)
        #expect(try Self.grant(decision).policy.name == "broad")
        #expect(decision.evaluations.map { $0.grantRefusal?.code } == [.scopeNotAllowed, nil])
    }

    @Test("when every matching policy refuses, the first refusal is the answer")
    func firstRefusal() {
        let scopeRefusal = Self.policy("a", scopes: ["read"])
        let targetRefusal = Self.policy("b", audiences: ["https://x.internal"], scopes: ["write"])
        let request = ExchangeRequest(subjectToken: "t", audiences: ["https://api.internal"], scopes: ["write"])
        #expect(Self.failure(Self.decide([scopeRefusal, targetRefusal], request: request))?.code == .scopeNotAllowed)
        #expect(Self.failure(Self.decide([targetRefusal, scopeRefusal], request: request))?.code == .targetNotAllowed)
    }

    @Test("the lifetime never reaches beyond the subject token's expiry")
    func boundedBySubjectToken() throws {
        let claims = Fixtures.claims(["exp": .number(Self.now + 30)])
        let grant = try Self.grant(Self.decide([Self.policy("app", maxLifetime: 3600)], claims: claims))
        #expect(grant.expiresAt == Int(Self.now) + 30)
        #expect(grant.lifetime == 30)
    }

    @Test("may_outlive_subject_token lets the lifetime reach the policy maximum")
    func mayOutlive() throws {
        let claims = Fixtures.claims(["exp": .number(Self.now + 30)])
        let grant = try Self.grant(Self.decide([Self.policy("app", maxLifetime: 3600, mayOutlive: true)], claims: claims))
        #expect(grant.lifetime == 3600)
    }

    @Test("the lifetime is capped by the policy's max_lifetime")
    func cappedByPolicy() throws {
        let claims = Fixtures.claims(["iat": .number(Self.now - 10), "exp": .number(Self.now + 20_000)])
        let grant = try Self.grant(Self.decide([Self.policy("app", maxLifetime: 900)], claims: claims))
        #expect(grant.lifetime == 900)
        #expect(grant.expiresAt == Int(Self.now) + 900)
    }

    @Test("the lifetime is bounded by a Kubernetes warnafter")
    func boundedByWarnAfter() throws {
        let claims = Fixtures.claims(["exp": .number(Self.now + 3000), "kubernetes.io": ["warnafter": .number(Self.now + 120)]])
        #expect(try Self.grant(Self.decide([Self.policy("app")], claims: claims)).lifetime == 120)
    }

    @Test("whole seconds: a fractional expiry and instant round down, never up")
    func wholeSeconds() throws {
        let claims = Fixtures.claims(["exp": .number(Self.now + 100.9)])
        let grant = try Self.grant(Self.decide([Self.policy("app")], claims: claims, now: Self.now + 0.7))
        #expect(grant.issuedAt == Int(Self.now))
        #expect(grant.expiresAt == Int(Self.now) + 100)
        #expect(Double(grant.expiresAt) <= Self.now + 100.9)
    }

    @Test("a subject token past exp but within the leeway issues nothing")
    func noLifetimeLeft() {
        let claims = Fixtures.claims(["exp": .number(Self.now - 30)])
        let error = Self.failure(Self.decide([Self.policy("app")], claims: claims))
        #expect(error?.code == .tokenExpired)
        let almost = Fixtures.claims(["exp": .number(Self.now + 0.5)])
        #expect(Self.failure(Self.decide([Self.policy("app")], claims: almost))?.code == .tokenExpired)
    }

    @Test("the issued sub comes from the policy's subject claim, which must be a non-empty string")
    func subjectClaim() throws {
        let path = ClaimPath(["kubernetes.io", "serviceaccount", "name"])
        #expect(try Self.grant(Self.decide([Self.policy("app", subjectClaim: path)])).subject == "app")
        let missing = Self.failure(Self.decide([Self.policy("app", subjectClaim: ClaimPath(["repository_id"]))]))
        #expect(missing?.code == .tokenClaimsInvalid)
        let number = Self.failure(Self.decide([Self.policy("app", subjectClaim: ClaimPath(["iat"]))]))
        #expect(number?.code == .tokenClaimsInvalid)
    }
}
