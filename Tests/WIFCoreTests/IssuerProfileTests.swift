import Testing
import WIFCore

/// `profile:` on an issuer fills in its platform's defaults where the entry leaves them out.
@Suite("Issuer profiles")
struct IssuerProfileTests {
    static func issuer(_ lines: [String]) throws -> TrustedIssuer {
        let yaml =
            (["issuers:", "  - name: src"] + lines.map { "    " + $0 } + [
                "policies:",
                "  - name: p",
                "    issuer: src",
                "    conditions: [{claim: sub, equals: x}]",
                "    grant: {audiences: [https://api.example.com], scopes: [read]}",
            ]).joined(separator: "\n")
        return try #require(TrustConfigLoader.load([.init(name: "c.yaml", contents: yaml)]).issuers.first)
    }

    static func problems(_ lines: [String]) -> [TrustConfigProblem] {
        let yaml = (["issuers:", "  - name: src"] + lines.map { "    " + $0 }).joined(separator: "\n")
        return TrustConfigLoader.loadReport([.init(name: "c.yaml", contents: yaml)]).problems
    }

    /// The minimal entry for each profile and what its documentation table promises: (entry lines, algorithms,
    /// max token lifetime, key source, Kubernetes intake).
    static let profileCases: [Case<([String], Set<JWSAlgorithm>, Int, TrustedIssuer.KeySource, KubernetesIntake)>] = [
        Case(
            "kubernetes",
            (
                ["profile: kubernetes", "issuer: https://k8s.example.com", "keys: {jwks_url: https://k8s.example.com/jwks}"],
                Set<JWSAlgorithm>([.rs256, .es256, .es384]), 86_400, TrustedIssuer.KeySource.jwksURL("https://k8s.example.com/jwks"),
                KubernetesIntake(maxTokenAge: 86_400, requirePodBinding: true, warnAfterAsExpiry: true)
            )
        ),
        Case(
            "github-actions",
            (
                ["profile: github-actions", "issuer: https://github.example.com/_services/token"], Set<JWSAlgorithm>([.rs256]), 3600,
                .discovery, KubernetesIntake()
            )
        ),
        Case("gitlab", (["profile: gitlab", "issuer: https://gitlab.example.com"], [.rs256], 7200, .discovery, KubernetesIntake())),
        Case(
            "gcp",
            (["profile: gcp", "issuer: https://accounts.google.com"], [.rs256], 3600, .discovery, KubernetesIntake())
        ),
        Case(
            "azure",
            (
                ["profile: azure", "issuer: https://login.microsoftonline.com/0c9f1f3e-0000-4000-8000-000000000001/v2.0"], [.rs256], 86_400,
                .discovery, KubernetesIntake()
            )
        ),
        Case(
            "aws",
            (
                ["profile: aws", "issuer: https://a1b2c3d4-0000-4000-8000-000000000001.tokens.sts.global.api.aws"], [.rs256, .es384], 3600,
                .discovery, KubernetesIntake()
            )
        ),
        Case(
            "spiffe",
            (
                ["profile: spiffe", "issuer: https://oidc.spire.example.org", "keys: {discovery: true}"],
                [.rs256, .rs384, .rs512, .ps256, .ps384, .ps512, .es256, .es384], 3600, .discovery, KubernetesIntake()
            )
        ),
    ]

    /// Each profile's minimal entry loads with the defaults its documentation table promises.
    @Test("each profile's defaults", arguments: profileCases)
    func defaults(
        _ input: Case<([String], Set<JWSAlgorithm>, Int, TrustedIssuer.KeySource, KubernetesIntake)>
    ) throws {
        let (lines, algorithms, lifetime, keys, intake) = input.value
        let issuer = try Self.issuer(lines + ["audiences: [wif]"])
        #expect(issuer.profile?.rawValue == input.name)
        #expect(issuer.algorithms == algorithms)
        #expect(issuer.maxTokenLifetime == lifetime)
        #expect(issuer.keySource == keys)
        #expect(issuer.kubernetes == intake)
        #expect(issuer.audiences == ["wif"])
        #expect(issuer.leeway == TrustedIssuer.defaultLeeway)
    }

    @Test("what the entry says wins over the profile")
    func explicitWins() throws {
        let issuer = try Self.issuer([
            "profile: kubernetes",
            "issuer: https://k8s.example.com",
            "keys: {jwks_file: jwks.json}",
            "audiences: [wif]",
            "algorithms: [ES256]",
            "max_token_lifetime: 2h",
            "kubernetes: {require_pod_binding: false}",
        ])
        #expect(issuer.algorithms == [.es256])
        #expect(issuer.maxTokenLifetime == 7200)
        #expect(issuer.keySource == .jwksFile("jwks.json"))
        // The fields the `kubernetes:` section leaves out still come from the profile.
        #expect(issuer.kubernetes == KubernetesIntake(maxTokenAge: 86_400, requirePodBinding: false, warnAfterAsExpiry: true))
    }

    @Test("without a profile nothing changes: algorithms and keys are required, the plain defaults apply")
    func noProfile() throws {
        #expect(
            Self.problems(["issuer: https://x.example.com", "audiences: [wif]"]).map(\.field) == ["issuers[0].algorithms", "issuers[0].keys"]
        )
        let issuer = try Self.issuer(["issuer: https://x.example.com", "keys: {discovery: true}", "audiences: [wif]", "algorithms: [RS256]"])
        #expect(issuer.profile == nil)
        #expect(issuer.maxTokenLifetime == TrustedIssuer.defaultMaxTokenLifetime)
        #expect(issuer.kubernetes == KubernetesIntake())
    }

    @Test("kubernetes and spiffe profiles still need keys; no profile supplies audiences")
    func stillRequired() {
        #expect(Self.problems(["profile: kubernetes", "issuer: https://k.example.com", "audiences: [wif]"]).map(\.field) == ["issuers[0].keys"])
        #expect(Self.problems(["profile: spiffe", "issuer: https://s.example.com", "audiences: [wif]"]).map(\.field) == ["issuers[0].keys"])
        #expect(Self.problems(["profile: gcp", "issuer: https://accounts.google.com"]).map(\.field) == ["issuers[0].audiences"])
    }

    @Test("an unknown profile is refused, without also asking for the fields it would supply")
    func unknownProfile() {
        let problems = Self.problems(["profile: github-action", "issuer: https://x.example.com", "audiences: [wif]"])
        #expect(
            problems == [
                TrustConfigProblem(
                    file: "c.yaml",
                    line: 3,
                    field: "issuers[0].profile",
                    message: #"unknown profile "github-action" (known: kubernetes, github-actions, gitlab, gcp, azure, aws, spiffe)"#
                )
            ]
        )
    }

    @Test("every profile documents defaults that load")
    func everyProfile() {
        for profile in IssuerProfile.allCases {
            let defaults = profile.defaults
            #expect(!defaults.algorithms.isEmpty)
            #expect(defaults.maxTokenLifetime >= 3600 && defaults.maxTokenLifetime <= 7 * 24 * 3600)
            #expect((defaults.kubernetes != nil) == (profile == .kubernetes))
        }
    }
}

/// `mode: enforce | audit` on a policy.
@Suite("Policy mode")
struct PolicyModeTests {
    static func yaml(_ modeLine: String?) -> String {
        ([
            "issuers:",
            "  - name: src",
            "    issuer: https://x.example.com",
            "    keys: {discovery: true}",
            "    audiences: [wif]",
            "    algorithms: [RS256]",
            "policies:",
            "  - name: p",
            "    issuer: src",
        ] + (modeLine.map { ["    " + $0] } ?? []) + [
            "    conditions: [{claim: sub, equals: x}]",
            "    grant: {audiences: [https://api.example.com], scopes: [read]}",
        ]).joined(separator: "\n")
    }

    @Test(
        "mode is parsed, enforce by default",
        arguments: [
            Case("default", (nil, TrustPolicy.Mode.enforce)), Case("enforce", ("mode: enforce", .enforce)), Case("audit", ("mode: audit", .audit)),
        ]
    )
    func parsed(_ input: Case<(String?, TrustPolicy.Mode)>) throws {
        let config = try TrustConfigLoader.load([.init(name: "c.yaml", contents: Self.yaml(input.value.0))])
        #expect(config.policies.first?.mode == input.value.1)
    }

    @Test("any other mode is refused", arguments: ["shadow", "Audit", "true", "''"])
    func refused(_ value: String) {
        let problems = TrustConfigLoader.loadReport([.init(name: "c.yaml", contents: Self.yaml("mode: \(value)"))]).problems
        #expect(problems.map(\.field) == ["policies[0].mode"])
        #expect(problems.first?.line == 10)
        #expect(problems.first?.message == (value == "''" ? "must not be empty" : "expected enforce or audit"))
    }

    @Test("a policy built in code enforces unless told otherwise")
    func initDefault() {
        let policy = TrustPolicy(
            name: "p",
            issuer: "i",
            conditions: [ClaimCondition(claim: ClaimPath(["sub"]), matcher: .equals("x"))],
            grant: .init(audiences: ["a"], scopes: [], clientID: "p")
        )
        #expect(policy.mode == .enforce)
    }
}
