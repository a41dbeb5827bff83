import Testing
import WIFCore

/// A policy on an issuer every tenant of a public platform shares (GitHub Actions, GitLab.com, Google, Entra's
/// multi-tenant endpoints) must pin the owner with an exact condition, or it is refused at load: by
/// `wif validate` and by `serve`, which loads the same way.
@Suite("Shared issuers: policies must pin the owner")
struct OwnerPinningTests {
    static func yaml(issuer: String, profile: String? = nil, conditions: [String]) -> String {
        var lines = ["issuers:", "  - name: shared"]
        if let profile { lines.append("    profile: \(profile)") }
        lines += [
            "    issuer: \(issuer)",
            "    keys: {discovery: true}",
            "    audiences: [https://wif.example.com]",
            "    algorithms: [RS256]",
            "policies:",
            "  - name: p",
            "    issuer: shared",
            "    conditions:",
        ]
        lines += conditions.map { "      - \($0)" }
        lines += ["    grant: {audiences: [https://api.example.com], scopes: [read]}"]
        return lines.joined(separator: "\n")
    }

    static func problems(_ yaml: String) -> [TrustConfigProblem] {
        TrustConfigLoader.loadReport([.init(name: "c.yaml", contents: yaml)]).problems
    }

    static let github = "https://token.actions.githubusercontent.com"
    static let gitlab = "https://gitlab.com"
    static let google = "https://accounts.google.com"

    @Test(
        "a policy that does not pin the owner exactly is refused",
        arguments: [
            Case("GitHub, by repository name", (github, "{claim: repository, equals: acme/app}", "repository_owner_id or repository_id")),
            Case("GitHub, by owner name", (github, "{claim: repository_owner, equals: acme}", "repository_owner_id or repository_id")),
            Case("GitHub, by sub", (github, "{claim: sub, equals: 'repo:acme/app:ref:refs/heads/main'}", "repository_owner_id or repository_id")),
            Case("GitHub, owner id by pattern", (github, "{claim: repository_owner_id, glob: '12*'}", "repository_owner_id or repository_id")),
            Case("GitHub, trailing slash", (github + "/", "{claim: repository, equals: acme/app}", "repository_owner_id or repository_id")),
            Case("GitLab.com, by path", (gitlab, "{claim: project_path, equals: acme/app}", "namespace_id or project_id")),
            Case("Google, by a domain claim", (google, "{claim: hd, equals: example.com}", "sub or azp or email")),
            Case("Entra common", ("https://login.microsoftonline.com/common/v2.0", "{claim: oid, equals: x}", "tid")),
            Case("Entra organizations", ("https://login.microsoftonline.com/organizations/v2.0", "{claim: sub, equals: x}", "tid")),
            Case("Entra common, upper case", ("https://login.microsoftonline.com/Common/v2.0", "{claim: sub, equals: x}", "tid")),
        ]
    )
    func refused(_ input: Case<(String, String, String)>) {
        let (issuer, condition, owners) = input.value
        let problems = Self.problems(Self.yaml(issuer: issuer, conditions: [condition]))
        #expect(problems.count == 1, "\(problems)")
        #expect(problems.first?.field == "policies[0].conditions")
        #expect(problems.first?.line == 10)
        #expect(problems.first?.message.contains("is shared by") == true)
        #expect(problems.first?.message.contains("pin the owner with an exact condition (equals or one_of) on \(owners)") == true)
    }

    @Test("the refusal names the GitHub rule and why a name is not enough")
    func githubMessage() {
        let problems = Self.problems(
            Self.yaml(issuer: Self.github, profile: "github-actions", conditions: ["{claim: repository_owner, equals: acme}"])
        )
        #expect(
            problems == [
                TrustConfigProblem(
                    file: "c.yaml",
                    line: 11,
                    field: "policies[0].conditions",
                    message:
                        "https://token.actions.githubusercontent.com is shared by every GitHub repository: pin the owner with an exact condition (equals or one_of) on repository_owner_id or repository_id, or this policy admits tokens of anyone on it (repository_owner is a name, which someone else can register once it is free; it does not pin the owner)"
                )
            ]
        )
    }

    @Test(
        "an exact condition on an owner claim is enough",
        arguments: [
            Case("GitHub owner id", (github, "{claim: repository_owner_id, equals: '1234567'}")),
            Case("GitHub repository id", (github, "{claim: repository_id, one_of: ['1', '2']}")),
            Case("GitLab namespace id", (gitlab, "{claim: namespace_id, equals: '72'}")),
            Case("GitLab project id", (gitlab, "{claim: project_id, equals: '20'}")),
            Case("Google service account", (google, "{claim: email, equals: ci@acme-prod.iam.gserviceaccount.com}")),
            Case("Google project", (google, "{claim: [google, compute_engine, project_id], equals: acme-prod}")),
            Case(
                "Entra tenant",
                ("https://login.microsoftonline.com/organizations/v2.0", "{claim: tid, equals: 0c9f1f3e-0000-4000-8000-000000000001}")
            ),
            Case(
                "an Entra tenant's own issuer",
                ("https://login.microsoftonline.com/0c9f1f3e-0000-4000-8000-000000000001/v2.0", "{claim: oid, equals: x}")
            ),
            Case("GitHub Enterprise Server", ("https://github.example.com/_services/token", "{claim: repository, equals: acme/app}")),
            Case("GitHub Enterprise Cloud issuer", (github + "/acme", "{claim: repository, equals: acme/app}")),
            Case("self-managed GitLab", ("https://gitlab.example.com", "{claim: project_path, equals: acme/app}")),
        ]
    )
    func accepted(_ input: Case<(String, String)>) {
        let (issuer, condition) = input.value
        #expect(Self.problems(Self.yaml(issuer: issuer, conditions: [condition])) == [])
    }

    @Test("serve's loader refuses the same config")
    func loadRefuses() {
        let yaml = Self.yaml(issuer: Self.github, conditions: ["{claim: repository, equals: acme/app}"])
        let error = #expect(throws: TrustConfigError.self) { try TrustConfigLoader.load([.init(name: "c.yaml", contents: yaml)]) }
        #expect(error?.problems.map(\.field) == ["policies[0].conditions"])
    }

    @Test("an actor rule on a shared issuer must pin the owner too")
    func actorRule() {
        let yaml =
            """
            issuers:
              - name: cluster
                issuer: https://k8s.example.com
                keys: {jwks_url: https://k8s.example.com/jwks}
                audiences: [wif]
                algorithms: [RS256]
              - name: github
                issuer: https://token.actions.githubusercontent.com
                keys: {discovery: true}
                audiences: [https://wif.example.com]
                algorithms: [RS256]
            policies:
              - name: p
                issuer: cluster
                conditions: [{claim: sub, equals: 'system:serviceaccount:a:b'}]
                grant: {audiences: [https://api.example.com], scopes: [read]}
                delegation:
                  actors:
                    - issuer: github
                      conditions: [{claim: repository, equals: acme/deployer}]
            """
        let problems = Self.problems(yaml)
        #expect(problems.map(\.field) == ["policies[0].delegation.actors[0].conditions"])
        #expect(problems.first?.line == 20)
        #expect(problems.first?.message.contains("or this actor rule admits tokens of anyone on it") == true)
    }

    @Test("GitHub and GitLab ids written as numbers draw a warning: they are sent as strings")
    func numericIDs() {
        let report = TrustConfigLoader.loadReport([
            .init(name: "c.yaml", contents: Self.yaml(issuer: Self.github, conditions: ["{claim: repository_owner_id, equals: 1234567}"]))
        ])
        #expect(report.problems.isEmpty)
        #expect(
            report.warnings.map(\.message) == [
                #"GitHub sends repository_owner_id as a string: quote it ("1234567"), the number 1234567 never matches"#
            ]
        )
    }

    @Test("on a single-tenant GitHub or GitLab, a name without an id draws a warning")
    func namesOnSingleTenantIssuers() {
        let ghes = TrustConfigLoader.loadReport([
            .init(
                name: "c.yaml",
                contents: Self.yaml(
                    issuer: "https://github.example.com/_services/token",
                    profile: "github-actions",
                    conditions: ["{claim: repository_owner, equals: acme}"]
                )
            )
        ])
        #expect(ghes.problems.isEmpty)
        #expect(
            ghes.warnings.map(\.message) == [
                "repository_owner is a name, which someone else can register after a rename or deletion: pin repository_owner_id (an id that is never reused)"
            ]
        )
        let withID = TrustConfigLoader.loadReport([
            .init(
                name: "c.yaml",
                contents: Self.yaml(
                    issuer: "https://gitlab.example.com",
                    profile: "gitlab",
                    conditions: ["{claim: project_path, equals: acme/app}", "{claim: namespace_id, equals: '7'}"]
                )
            )
        ])
        #expect(withID.warnings.isEmpty)
    }
}
