import Testing
import WIFCore

/// `wif validate`'s warning for glob and regex conditions that admit every workload of a kind: the constant
/// prefix of an identity claim is stripped, and the tenant after it (namespace, repository owner, group,
/// workload path) must be written literally.
@Suite("Warnings: patterns so broad they admit every workload")
struct PatternBreadthTests {
    /// One issuer (`profile`, or none) and one policy whose conditions are `conditions` (YAML flow mappings).
    static func yaml(profile: String?, issuer: String = "https://issuer.example.com", conditions: [String]) -> String {
        var lines = ["issuers:", "  - name: src"]
        if let profile { lines.append("    profile: \(profile)") }
        lines += [
            "    issuer: \(issuer)",
            "    keys: {jwks_url: https://issuer.example.com/jwks}",
            "    audiences: [wif]",
            "    algorithms: [RS256]",
            "policies:",
            "  - name: p",
            "    issuer: src",
            "    conditions:",
        ]
        lines += conditions.map { "      - \($0)" }
        lines += ["    grant: {audiences: [https://api.example.com], scopes: [read]}"]
        return lines.joined(separator: "\n")
    }

    /// The warnings on conditions, as `field: message`.
    static func warnings(profile: String?, issuer: String = "https://issuer.example.com", _ conditions: String...) -> [String] {
        let report = TrustConfigLoader.loadReport([.init(name: "c.yaml", contents: yaml(profile: profile, issuer: issuer, conditions: conditions))])
        #expect(report.problems.isEmpty, "\(report.problems)")
        return report.warnings.filter { $0.field.contains(".conditions[") }.map { "\($0.field): \($0.message)" }
    }

    // MARK: - Broad patterns are flagged

    /// (profile, condition, what the warning says)
    static let broadCases: [Case<(String?, String, String)>] = [
        Case("kubernetes glob, any namespace", ("kubernetes", "{claim: sub, glob: 'system:serviceaccount:*:*'}", "pins no namespace")),
        Case(
            "kubernetes glob, any namespace, fixed name",
            ("kubernetes", "{claim: sub, glob: 'system:serviceaccount:*:checkout'}", "pins no namespace")
        ),
        Case("kubernetes regex", ("kubernetes", "{claim: sub, regex: 'system:serviceaccount:.*'}", "pins no namespace")),
        Case("kubernetes regex cut inside the prefix", ("kubernetes", "{claim: sub, regex: 'system:.*'}", "pins no namespace")),
        Case(
            "kubernetes namespace prefix",
            ("kubernetes", "{claim: sub, glob: 'system:serviceaccount:pay*:checkout'}", "leaves the namespace to a pattern")
        ),
        Case(
            "namespace claim pattern",
            ("kubernetes", "{claim: [kubernetes.io, namespace], regex: 'team-[a-z]+'}", "leaves the namespace to a pattern")
        ),
        Case("github glob", ("github-actions", "{claim: sub, glob: 'repo:*'}", "pins no repository owner")),
        Case("github regex", ("github-actions", "{claim: sub, regex: 'repo:.*'}", "pins no repository owner")),
        Case("github any owner, fixed repo", ("github-actions", "{claim: sub, glob: 'repo:*/app:ref:refs/heads/main'}", "pins no repository owner")),
        Case(
            "github owner prefix",
            ("github-actions", "{claim: sub, glob: 'repo:acme*/app:ref:refs/heads/main'}", "leaves the repository owner to a pattern")
        ),
        Case("github repository claim", ("github-actions", "{claim: repository, regex: '.*/app'}", "pins no repository owner")),
        Case(
            "github reusable workflow",
            ("github-actions", "{claim: job_workflow_ref, glob: '*/wf/.github/workflows/x.yml@*'}", "pins no reusable workflow's owner")
        ),
        Case("gitlab", ("gitlab", "{claim: sub, glob: 'project_path:*/*:ref_type:branch:ref:main'}", "pins no top-level group")),
        Case("gitlab project_path", ("gitlab", "{claim: project_path, regex: 'acme.*'}", "leaves the top-level group to a pattern")),
        Case("spiffe trust domain only", ("spiffe", "{claim: sub, regex: 'spiffe://example\\.org/.*'}", "pins no workload path")),
        Case("spiffe any namespace", ("spiffe", "{claim: sub, glob: 'spiffe://example.org/ns/*/sa/*'}", "pins no workload path")),
        Case("no profile: shape from the prefix", (nil, "{claim: sub, glob: 'system:serviceaccount:*:*'}", "pins no namespace")),
        Case("no profile: github shape", (nil, "{claim: sub, regex: 'repo:.*'}", "pins no repository owner")),
        Case("no profile: leading wildcard", (nil, "{claim: sub, regex: '.*:checkout'}", "starts with a wildcard")),
        Case("one broad alternative is enough", ("github-actions", "{claim: sub, regex: 'repo:acme/app:.*|repo:.*'}", "pins no repository owner")),
        Case("optional tenant", ("kubernetes", "{claim: sub, regex: 'system:serviceaccount:(payments)?:x'}", "pins no namespace")),
        Case("case-insensitive flag", ("kubernetes", "{claim: sub, regex: '(?i)system:serviceaccount:payments:x'}", "pins no namespace")),
        Case("escaped wildcard class", ("github-actions", "{claim: sub, regex: 'repo:\\w+/app'}", "pins no repository owner")),
    ]

    @Test("a pattern that leaves the tenant open is flagged, with the tenant it leaves open", arguments: broadCases)
    func broad(_ input: Case<(String?, String, String)>) {
        let (profile, condition, expected) = input.value
        // Besides, a `repository` or `project_path` condition alone draws the warning that it is a name.
        let warnings = Self.warnings(profile: profile, condition).filter { !$0.contains(" is a name, ") }
        #expect(warnings.count == 1, "\(warnings)")
        #expect(warnings.first?.contains(expected) == true, "\(warnings)")
    }

    @Test("the warning names the field and line of the pattern, and suggests a literal tenant")
    func located() {
        let report = TrustConfigLoader.loadReport([
            .init(name: "c.yaml", contents: Self.yaml(profile: "kubernetes", conditions: ["{claim: sub, glob: 'system:serviceaccount:*:*'}"]))
        ])
        #expect(
            report.warnings == [
                TrustConfigProblem(
                    file: "c.yaml",
                    line: 12,
                    field: "policies[0].conditions[0].glob",
                    message:
                        #""system:serviceaccount:*:*" pins no namespace: it admits every namespace on this issuer; write the namespace literally, e.g. system:serviceaccount:NAMESPACE:*"#
                )
            ]
        )
    }

    // MARK: - Narrow patterns are not

    @Test(
        "a pattern whose tenant is literal is not flagged",
        arguments: [
            Case("kubernetes namespace", ("kubernetes", "{claim: sub, glob: 'system:serviceaccount:payments:*'}")),
            Case("kubernetes regex namespace", ("kubernetes", "{claim: sub, regex: 'system:serviceaccount:payments:.*'}")),
            Case("kubernetes regex namespaces", ("kubernetes", "{claim: sub, regex: 'system:serviceaccount:(payments|orders):.*'}")),
            Case("kubernetes escaped", ("kubernetes", "{claim: sub, regex: '^system:serviceaccount:payments\\:.+$'}")),
            Case("github owner", ("github-actions", "{claim: sub, glob: 'repo:my-org/*'}")),
            Case("github owner regex", ("github-actions", "{claim: sub, regex: 'repo:my-org/.*'}")),
            Case("github exact sub", ("github-actions", "{claim: sub, regex: 'repo:my-org/app:ref:refs/heads/main'}")),
            Case("github reusable workflow", ("github-actions", "{claim: job_workflow_ref, glob: 'acme/wf/.github/workflows/x.yml@*'}")),
            Case("gitlab group", ("gitlab", "{claim: sub, glob: 'project_path:acme/*:ref_type:branch:ref:main'}")),
            Case("spiffe namespace", ("spiffe", "{claim: sub, glob: 'spiffe://example.org/ns/payments/sa/*'}")),
            Case("spiffe path", ("spiffe", "{claim: sub, regex: 'spiffe://example\\.org/payments/.+'}")),
            Case("a claim without a known shape", ("github-actions", "{claim: ref, regex: 'refs/tags/v.*'}")),
            Case("a customised GitHub subject", ("github-actions", "{claim: sub, glob: 'repository_owner_id:123:*'}")),
            Case("AWS role ARN", ("aws", "{claim: sub, glob: 'arn:aws:iam::123456789012:role/*'}")),
        ]
    )
    func narrow(_ input: Case<(String, String)>) {
        let (profile, condition) = input.value
        #expect(Self.warnings(profile: profile, condition) == [])
    }

    @Test(
        "an exact condition on the tenant elsewhere in the policy covers a broad pattern",
        arguments: [
            Case(
                "namespace claim",
                ("kubernetes", "{claim: [kubernetes.io, namespace], equals: payments}", "{claim: sub, glob: 'system:serviceaccount:*:*'}")
            ),
            Case(
                "owner id",
                ("github-actions", "{claim: repository_owner_id, equals: '1234567'}", "{claim: sub, glob: 'repo:*/*:environment:production'}")
            ),
            Case("gitlab project id", ("gitlab", "{claim: project_id, equals: '42'}", "{claim: sub, regex: 'project_path:.*'}")),
            Case(
                "an exact subject",
                ("kubernetes", "{claim: sub, equals: 'system:serviceaccount:a:b'}", "{claim: sub, regex: 'system:serviceaccount:.*:b'}")
            ),
        ]
    )
    func coveredByAnExactPin(_ input: Case<(String, String, String)>) {
        let (profile, pin, broad) = input.value
        #expect(Self.warnings(profile: profile, pin, broad) == [])
    }

    @Test("a caller pinned by repository does not cover a reusable workflow of any owner")
    func workflowOwnerIsItsOwnTenant() {
        let warnings = Self.warnings(
            profile: "github-actions",
            "{claim: repository_id, equals: '1'}",
            "{claim: job_workflow_ref, glob: '*/wf/.github/workflows/x.yml@*'}"
        )
        #expect(warnings.count == 1)
        #expect(
            warnings.first?.hasPrefix("policies[0].conditions[1].glob: \"*/wf/.github/workflows/x.yml@*\" pins no reusable workflow's owner") == true
        )
    }

    @Test("a match-anything pattern beside a narrowing condition is flagged as pinning nothing")
    func matchAnything() {
        let warnings = Self.warnings(profile: nil, "{claim: sub, equals: a}", "{claim: environment, glob: '*'}", "{claim: ref, regex: '.*'}")
        #expect(
            warnings == [
                #"policies[0].conditions[1].glob: "*" matches any value: this condition pins nothing; remove it or write what it should require"#,
                #"policies[0].conditions[2].regex: ".*" matches any value: this condition pins nothing; remove it or write what it should require"#,
            ]
        )
    }

    @Test("actor rules are checked like policies")
    func actorRules() {
        let yaml =
            Self.yaml(profile: "kubernetes", conditions: ["{claim: sub, equals: 'system:serviceaccount:a:b'}"])
            + "\n    delegation:\n      actors:\n        - issuer: src\n          conditions: [{claim: sub, glob: 'system:serviceaccount:*:gateway'}]"
        let report = TrustConfigLoader.loadReport([.init(name: "c.yaml", contents: yaml)])
        #expect(report.problems.isEmpty)
        #expect(report.warnings.map(\.field) == ["policies[0].delegation.actors[0].conditions[0].glob"])
        #expect(report.warnings.first?.message.contains("pins no namespace") == true)
    }
}
