import Testing
import WIFCore

@Suite("TrustConfigLoader: YAML compiled into checked types, every problem located")
struct TrustConfigLoaderTests {
    /// A complete, valid trust-config (line numbers matter to the tests below).
    static let valid = """
        issuers:
          - name: cluster
            issuer: https://kubernetes.default.svc.cluster.local
            keys:
              jwks_file: cluster-jwks.json
            audiences: [wif]
            algorithms: [RS256, ES256]
            max_token_lifetime: 24h
            leeway: 30s
          - name: github
            issuer: https://token.actions.githubusercontent.com
            keys:
              discovery: true
            audiences:
              - https://github.com/acme
            algorithms: [RS256]

        policies:
          - name: demo-app
            issuer: cluster
            description: The demo app in namespace demo.
            conditions:
              - claim: sub
                equals: system:serviceaccount:demo:app
              - claim: [kubernetes.io, namespace]
                one_of: [demo, staging]
              - claim: [kubernetes.io, pod, name]
                glob: "app-*"
            grant:
              audiences: [https://api.internal, https://other.internal]
              scopes: [read, write]
              default_scopes: [read]
              max_lifetime: 15m
              may_outlive_subject_token: false
              subject_claim: [kubernetes.io, serviceaccount, name]
              claims:
                namespace: [kubernetes.io, namespace]
                pod: [kubernetes.io, pod, name]
              client_id: demo-client
          - name: deploy-main
            issuer: github
            conditions:
              - claim: sub
                regex: "repo:acme/app:ref:refs/heads/(main|release-[0-9]+)"
              - claim: repository_id
                equals: 123456
              - claim: groups
                contains: deployers
            grant:
              audiences: [https://deploy.internal]
              scopes: []
        """

    static func load(_ files: [(String, String)]) -> Result<TrustConfig, TrustConfigError> {
        Result { () throws(TrustConfigError) in try TrustConfigLoader.load(files.map { TrustConfigLoader.File(name: $0.0, contents: $0.1) }) }
    }

    static func problems(_ yaml: String, file: String = "config.yaml") -> [TrustConfigProblem] {
        switch load([(file, yaml)]) {
        case .success: return []
        case .failure(let error): return error.problems
        }
    }

    static func config(_ yaml: String) throws -> TrustConfig {
        try load([("config.yaml", yaml)]).get()
    }

    /// A minimal valid file with one issuer (whose fields can be replaced) and one policy.
    static func minimal(issuerLines: [String] = [], conditionLines: [String]? = nil, grantLines: [String] = []) -> String {
        let issuer =
            [
                "issuers:",
                "  - name: cluster",
                "    issuer: https://issuer.test",
                "    keys:",
                "      jwks_url: https://issuer.test/jwks",
                "    audiences: [wif]",
                "    algorithms: [ES256]",
            ] + issuerLines.map { "    " + $0 }
        let conditions = (conditionLines ?? ["- claim: sub", "  equals: x"]).map { "      " + $0 }
        let policy =
            [
                "policies:",
                "  - name: app",
                "    issuer: cluster",
                "    conditions:",
            ] + conditions + [
                "    grant:",
                "      audiences: [api]",
                "      scopes: [read]",
            ] + grantLines.map { "      " + $0 }
        return (issuer + policy).joined(separator: "\n")
    }

    /// The single condition value the minimal config compiles `equals: <text>` into.
    static func equalsValue(_ text: String) throws -> JSONValue? {
        let config = try config(minimal(conditionLines: ["- claim: sub", "  equals: \(text)"]))
        guard case .equals(let value) = config.policies.first?.conditions.first?.matcher else { return nil }
        return value
    }

    // MARK: - A valid config

    @Test("compiles a valid config into issuers and policies")
    func validConfig() throws {
        let config = try Self.config(Self.valid)
        #expect(config.issuers.map(\.name) == ["cluster", "github"])
        let cluster = try #require(config.issuer(forIss: "https://kubernetes.default.svc.cluster.local"))
        #expect(cluster.keySource == .jwksFile("cluster-jwks.json"))
        #expect(cluster.audiences == ["wif"])
        #expect(cluster.algorithms == [.rs256, .es256])
        #expect(cluster.maxTokenLifetime == 86_400)
        #expect(cluster.leeway == 30)
        #expect(cluster.allowInsecureLoopback == false)
        let github = try #require(config.issuer(forIss: "https://token.actions.githubusercontent.com"))
        #expect(github.keySource == .discovery)
        #expect(github.leeway == TrustedIssuer.defaultLeeway)
        #expect(github.maxTokenLifetime == TrustedIssuer.defaultMaxTokenLifetime)

        #expect(config.policies.map(\.name) == ["demo-app", "deploy-main"])
        let demo = config.policies[0]
        #expect(demo.issuer == "cluster")
        #expect(
            demo.conditions.map(\.claim) == [
                ClaimPath(["sub"]), ClaimPath(["kubernetes.io", "namespace"]), ClaimPath(["kubernetes.io", "pod", "name"]),
            ]
        )
        #expect(
            demo.conditions.map(\.matcher) == [.equals("system:serviceaccount:demo:app"), .oneOf(["demo", "staging"]), .glob(GlobPattern("app-*"))]
        )
        #expect(demo.grant.audiences == ["https://api.internal", "https://other.internal"])
        #expect(demo.grant.scopes == ["read", "write"])
        #expect(demo.grant.defaultScopes == ["read"])
        #expect(demo.grant.maxLifetime == 900)
        #expect(demo.grant.mayOutliveSubjectToken == false)
        #expect(demo.grant.subjectClaim == ClaimPath(["kubernetes.io", "serviceaccount", "name"]))
        #expect(
            demo.grant.mappedClaims == ["namespace": ClaimPath(["kubernetes.io", "namespace"]), "pod": ClaimPath(["kubernetes.io", "pod", "name"])]
        )
        #expect(demo.grant.clientID == "demo-client")

        let deploy = config.policies[1]
        #expect(
            deploy.conditions.map(\.matcher) == [
                .regex(try AnchoredRegex("repo:acme/app:ref:refs/heads/(main|release-[0-9]+)")), .equals(.number(123_456)), .contains("deployers"),
            ]
        )
        #expect(deploy.grant.scopes == [])
        #expect(deploy.grant.defaultScopes == nil)
        #expect(deploy.grant.clientID == "deploy-main")
        #expect(deploy.grant.maxLifetime == TrustPolicy.Grant.defaultMaxLifetime)
        #expect(deploy.grant.subjectClaim == ClaimPath(["sub"]))
        #expect(config.policies(for: github).map(\.name) == ["deploy-main"])
    }

    @Test("the minimal config used by the other tests is valid")
    func minimalIsValid() {
        #expect(Self.problems(Self.minimal()) == [])
    }

    @Test("several files load in the order given; an empty file adds nothing")
    func severalFiles() throws {
        let issuers = "issuers:\n" + Self.minimal().split(separator: "\n").dropFirst().prefix(6).joined(separator: "\n")
        let policies = "policies:\n" + Self.minimal().split(separator: "policies:\n", maxSplits: 1)[1]
        let config = try Self.load([("10-issuers.yaml", issuers), ("20-empty.yaml", ""), ("30-policies.yaml", policies)]).get()
        #expect(config.issuers.count == 1)
        #expect(config.policies.count == 1)
    }

    @Test(
        "durations accept seconds and s, m, h units",
        arguments: [("90", 90), ("90s", 90), ("15m", 900), ("1h", 3600), ("1h30m", 5400), ("2h", 7200)]
    )
    func durations(text: String, seconds: Int) throws {
        let config = try Self.config(Self.minimal(grantLines: ["max_lifetime: \(text)"]))
        #expect(config.policies[0].grant.maxLifetime == seconds)
    }

    @Test("plain http is allowed only for a loopback issuer that opts in")
    func loopback() throws {
        let yaml = Self.minimal().replacing("https://issuer.test/jwks", with: "http://127.0.0.1:8080/jwks")
        #expect(Self.problems(yaml).map(\.message) == ["plain http needs allow_insecure_loopback: true"])
        let optedIn = yaml.replacing("    algorithms: [ES256]", with: "    algorithms: [ES256]\n    allow_insecure_loopback: true")
        #expect(try Self.config(optedIn).issuers[0].allowInsecureLoopback)
        let remote = Self.minimal().replacing("https://issuer.test/jwks", with: "http://issuer.test/jwks")
            .replacing("    algorithms: [ES256]", with: "    algorithms: [ES256]\n    allow_insecure_loopback: true")
        #expect(Self.problems(remote).map(\.message) == ["must be an https URL (plain http only for loopback test issuers)"])
    }

    // MARK: - Problems are located

    @Test("an unknown key is reported with file, line and field")
    func unknownKey() {
        let problems = Self.problems(Self.minimal(issuerLines: ["audience: [wif]"]), file: "clusters.yaml")
        #expect(problems.count == 1)
        let problem = problems.first
        #expect(problem?.file == "clusters.yaml")
        #expect(problem?.line == 8)
        #expect(problem?.field == "issuers[0].audience")
        #expect(problem?.message.hasPrefix("unknown key (allowed: ") == true)
        #expect(problem?.description.hasPrefix("clusters.yaml:8: issuers[0].audience: unknown key") == true)
    }

    @Test("unknown keys are refused at every level")
    func unknownKeysEverywhere() {
        let top = Self.problems(Self.minimal() + "\nextras: true")
        #expect(top.map(\.field) == ["extras"])
        let inGrant = Self.problems(Self.minimal(grantLines: ["lifetime: 1h"]))
        #expect(inGrant.map(\.field) == ["policies[0].grant.lifetime"])
        let inCondition = Self.problems(Self.minimal(conditionLines: ["- claim: sub", "  equals: x", "  ignore_case: true"]))
        #expect(inCondition.map(\.field).contains("policies[0].conditions[0].ignore_case"))
        let inKeys = Self.problems(Self.minimal().replacing("jwks_url:", with: "jwks_uri:"))
        #expect(inKeys.contains { $0.field == "issuers[0].keys.jwks_uri" })
    }

    @Test("several problems in one load are all reported")
    func severalProblems() {
        let yaml = """
            issuers:
              - name: cluster
                issuer: https://issuer.test
                keys:
                  jwks_url: https://issuer.test/jwks
                audiences: [wif]
                algorithms: [HS256]
                leeway: 10m
            policies:
              - name: app
                issuer: nobody
                conditions: []
                grant:
                  audiences: [api]
                  scopes: [read]
                  colour: blue
            """
        let problems = Self.problems(yaml)
        let located = problems.map { "\($0.line.map(String.init) ?? "-") \($0.field)" }
        #expect(
            located == [
                "7 issuers[0].algorithms",
                "8 issuers[0].leeway",
                "12 policies[0].conditions",
                "16 policies[0].grant.colour",
            ]
        )
        #expect(problems.allSatisfy { $0.file == "config.yaml" })
    }

    @Test("problems in several files name their own file")
    func problemsAcrossFiles() {
        guard case .failure(let error) = Self.load([("a.yaml", "issuers: {}"), ("b.yaml", "policies:\n  - name: x")]) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.problems.map(\.file) == ["a.yaml", "b.yaml", "b.yaml", "b.yaml"])
        #expect(error.problems.map(\.field) == ["issuers", "policies[0].conditions", "policies[0].grant", "policies[0].issuer"])
        #expect(
            error.description.hasPrefix(
                "trust-config has 4 problems:\n  a.yaml:1: issuers: expected a list\n  b.yaml:2: policies[0].conditions: is required"
            )
        )
    }

    @Test("a YAML syntax error names the file and the line")
    func syntaxError() {
        let problems = Self.problems("issuers:\n  - name: cluster\n    issuer: [unclosed\npolicies: []\n", file: "broken.yaml")
        #expect(problems.count == 1)
        #expect(problems.first?.file == "broken.yaml")
        #expect(problems.first?.message.hasPrefix("YAML syntax error") == true)
        #expect(problems.first?.line == 4)
    }

    @Test("a duplicate YAML key is a syntax error, never last-wins")
    func duplicateYAMLKey() {
        let problems = Self.problems(Self.minimal(issuerLines: ["audiences: [other]"]))
        #expect(problems.count == 1)
        #expect(problems.first?.message.hasPrefix("YAML syntax error") == true)
        #expect(problems.first?.line == 6)
    }

    @Test("a truncated file is refused")
    func truncated() {
        let full = Self.minimal()
        let truncated = String(full.prefix(full.count - 12))
        #expect(!Self.problems(truncated).isEmpty)
    }

    @Test("a file over 1 MiB is refused")
    func oversized() {
        let yaml = Self.minimal() + "\n# " + String(repeating: "x", count: TrustConfigLoader.maxFileSize)
        let problems = Self.problems(yaml)
        #expect(problems.count == 1)
        #expect(problems.first?.message == "file is larger than 1048576 bytes")
    }

    @Test("an alias bomb is refused quickly")
    func aliasBomb() {
        var lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
        for (index, name) in "bcdefghi".enumerated() {
            let previous = "abcdefghi".dropFirst(index).first!
            lines.append("\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 10).joined(separator: ", ") + "]")
        }
        lines.append("issuers: *i")
        let start = ContinuousClock.now
        #expect(!Self.problems(lines.joined(separator: "\n")).isEmpty)
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    // MARK: - Semantic rules

    @Test("a policy without conditions is refused")
    func noConditions() {
        let empty = Self.problems(Self.minimal(conditionLines: []).replacing("conditions:", with: "conditions: []"))
        #expect(empty.map(\.field) == ["policies[0].conditions"])
        #expect(empty.first?.message == "an empty condition list would admit every token of its issuer")
        let missing = Self.problems(Self.minimal(conditionLines: []).replacing("    conditions:\n", with: ""))
        #expect(missing.map(\.field) == ["policies[0].conditions"])
        #expect(missing.first?.message == "is required")
    }

    @Test("a policy naming a declared but invalid issuer is not also reported as naming an unknown one")
    func brokenIssuerNotUnknown() {
        let problems = Self.problems(Self.minimal(issuerLines: ["leeway: 1d"]))
        #expect(problems.map(\.field) == ["issuers[0].leeway"])
    }

    @Test(
        "a policy whose conditions hold for every token of its issuer is refused (security-cases.md case 71)",
        arguments: [
            Case("aud only", ["- claim: aud", "  equals: wif"]),
            Case("iss only", ["- claim: iss", "  equals: https://issuer.test"]),
            Case("sub glob *", ["- claim: sub", "  glob: '*'"]),
            Case("sub regex .*", ["- claim: sub", "  regex: '.*'"]),
        ]
    )
    func issuerWideConditions(_ conditions: Case<[String]>) {
        let problems = Self.problems(Self.minimal(conditionLines: conditions.value))
        #expect(problems.map(\.field) == ["policies[0].conditions"])
    }

    @Test("a condition on sub or an identity claim narrows the policy")
    func narrowingConditions() {
        #expect(Self.problems(Self.minimal(conditionLines: ["- claim: aud", "  equals: wif", "- claim: sub", "  glob: 'repo:acme/*'"])).isEmpty)
        #expect(Self.problems(Self.minimal(conditionLines: ["- claim: repository_id", "  equals: 42"])).isEmpty)
    }

    @Test("a policy naming an unknown issuer is refused")
    func unknownIssuer() {
        let problems = Self.problems(Self.minimal().replacing("    issuer: cluster", with: "    issuer: clutser"))
        #expect(problems.count == 1)
        #expect(problems.first?.field == "policies[0].issuer")
        #expect(problems.first?.line == 9)
        #expect(problems.first?.message == #"no issuer is named "clutser""#)
    }

    @Test("HS256 and none are refused for an external issuer", arguments: ["HS256", "HS512", "none", "None"])
    func weakAlgorithms(_ alg: String) {
        let problems = Self.problems(Self.minimal().replacing("algorithms: [ES256]", with: "algorithms: [ES256, \(alg)]"))
        #expect(problems.map(\.field) == ["issuers[0].algorithms"])
        #expect(problems.first?.message == "\(alg) is never accepted from an external issuer")
    }

    @Test("an unknown algorithm or an empty list is refused")
    func badAlgorithms() {
        let unknown = Self.problems(Self.minimal().replacing("[ES256]", with: "[ES512]"))
        #expect(unknown.first?.message.hasPrefix(#"unsupported algorithm "ES512""#) == true)
        let empty = Self.problems(Self.minimal().replacing("[ES256]", with: "[]"))
        #expect(empty.map(\.message) == ["must list at least one value"])
    }

    @Test("a leeway over five minutes is refused", arguments: ["301", "6m", "1h"])
    func leewayTooLong(_ leeway: String) {
        let problems = Self.problems(Self.minimal(issuerLines: ["leeway: \(leeway)"]))
        #expect(problems.map(\.field) == ["issuers[0].leeway"])
        #expect(problems.first?.line == 8)
        #expect(problems.first?.message == "must be between 0 and 300 seconds")
    }

    @Test("a leeway of exactly five minutes or zero is accepted")
    func leewayBoundary() throws {
        #expect(try Self.config(Self.minimal(issuerLines: ["leeway: 5m"])).issuers[0].leeway == 300)
        #expect(try Self.config(Self.minimal(issuerLines: ["leeway: 0"])).issuers[0].leeway == 0)
    }

    @Test("malformed durations are refused", arguments: ["1d", "-5", "m", "1.5h", "", "ten", "99999999"])
    func badDurations(_ text: String) {
        let problems = Self.problems(Self.minimal(grantLines: ["max_lifetime: \"\(text)\""]))
        #expect(problems.map(\.field) == ["policies[0].grant.max_lifetime"])
    }

    @Test("a policy max_lifetime over 12 hours is refused")
    func maxLifetimeCap() {
        #expect(Self.problems(Self.minimal(grantLines: ["max_lifetime: 13h"])).map(\.field) == ["policies[0].grant.max_lifetime"])
        #expect(Self.problems(Self.minimal(grantLines: ["max_lifetime: 12h"])).isEmpty)
    }

    @Test("two issuers with one issuer URL are refused")
    func duplicateIssuerURL() {
        let second = [
            "  - name: cluster-b",
            "    issuer: https://issuer.test",
            "    keys:",
            "      jwks_url: https://b.test/jwks",
            "    audiences: [wif]",
            "    algorithms: [ES256]",
        ]
        let lines = Self.minimal().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let yaml = (lines.prefix(7) + second + lines.dropFirst(7)).joined(separator: "\n")
        let problems = Self.problems(yaml)
        #expect(problems.count == 1)
        #expect(problems.first?.field == "issuers[1]")
        #expect(problems.first?.line == 8)
        #expect(problems.first?.message.hasPrefix(#"duplicate issuer URL "https://issuer.test" (first at config.yaml:2)"#) == true)
    }

    @Test("two issuers or policies with one name are refused")
    func duplicateNames() {
        let twice = Self.load([("a.yaml", Self.minimal()), ("b.yaml", Self.minimal().replacing("issuer.test", with: "other.test"))])
        guard case .failure(let error) = twice else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.problems.map(\.message).contains { $0.hasPrefix(#"duplicate issuer name "cluster" (first at a.yaml:2)"#) })
        #expect(error.problems.map(\.message).contains { $0.hasPrefix(#"duplicate policy name "app" (first at a.yaml:9)"#) })
        #expect(error.problems.allSatisfy { $0.file == "b.yaml" })
    }

    @Test("an issuer template such as {tenantid} is refused")
    func tenantTemplate() {
        let yaml = Self.minimal().replacing("issuer: https://issuer.test", with: "issuer: https://login.microsoftonline.com/{tenantid}/v2.0")
        let problems = Self.problems(yaml)
        #expect(problems.map(\.field) == ["issuers[0].issuer"])
        #expect(problems.first?.message == "templates such as {tenantid} are not allowed: pin the exact issuer")
    }

    @Test(
        "key-source URLs must be https",
        arguments: ["http://issuer.test/jwks", "ftp://issuer.test/jwks", "file:///etc/passwd", "https://", "issuer.test/jwks", "https://a b/jwks"]
    )
    func keySourceURL(_ url: String) {
        let problems = Self.problems(Self.minimal().replacing("https://issuer.test/jwks", with: url))
        #expect(problems.map(\.field) == ["issuers[0].keys.jwks_url"])
    }

    @Test("an issuer names exactly one key source")
    func oneKeySource() {
        let two = Self.minimal().replacing(
            "      jwks_url: https://issuer.test/jwks",
            with: "      jwks_url: https://issuer.test/jwks\n      discovery: true"
        )
        #expect(Self.problems(two).map(\.field) == ["issuers[0].keys"])
        let off = Self.minimal().replacing("jwks_url: https://issuer.test/jwks", with: "discovery: false")
        #expect(Self.problems(off).map(\.field) == ["issuers[0].keys.discovery"])
    }

    @Test("an issuer name must be a short identifier", arguments: ["has space", "-dash-first", String(repeating: "n", count: 64), "ünïcode"])
    func issuerName(_ name: String) {
        let yaml = Self.minimal().replacing("name: cluster", with: "name: \"\(name)\"")
            .replacing("issuer: cluster", with: "issuer: \"\(name)\"")
        #expect(Self.problems(yaml).map(\.field) == ["issuers[0].name"])
    }

    @Test("required fields are reported when missing")
    func requiredFields() {
        let problems = Self.problems("issuers:\n  - name: cluster\npolicies:\n  - name: app\n    issuer: cluster")
        #expect(
            problems.map(\.field) == [
                "issuers[0].algorithms", "issuers[0].audiences", "issuers[0].issuer", "issuers[0].keys",
                "policies[0].conditions", "policies[0].grant",
            ]
        )
        #expect(problems.allSatisfy { $0.message == "is required" })
        #expect(problems.map(\.line) == [2, 2, 2, 2, 4, 4])
    }

    @Test("a condition names exactly one matcher and a claim")
    func conditionShape() {
        let two = Self.problems(Self.minimal(conditionLines: ["- claim: sub", "  equals: x", "  glob: y"]))
        #expect(two.map(\.field) == ["policies[0].conditions[0]"])
        let none = Self.problems(Self.minimal(conditionLines: ["- claim: sub"]))
        #expect(none.map(\.field) == ["policies[0].conditions[0]"])
        let noClaim = Self.problems(Self.minimal(conditionLines: ["- equals: x"]))
        #expect(noClaim.map(\.field) == ["policies[0].conditions[0].claim"])
        let emptyOneOf = Self.problems(Self.minimal(conditionLines: ["- claim: sub", "  one_of: []"]))
        #expect(emptyOneOf.map(\.field) == ["policies[0].conditions[0].one_of"])
        let mappingValue = Self.problems(Self.minimal(conditionLines: ["- claim: sub", "  equals: {a: 1}"]))
        #expect(mappingValue.map(\.field) == ["policies[0].conditions[0].equals"])
    }

    @Test("a regex that does not compile, or closes its anchoring group, is refused", arguments: ["a)|(b", "[a-", "(x"])
    func badRegex(_ pattern: String) {
        let problems = Self.problems(Self.minimal(conditionLines: ["- claim: sub", "  regex: '\(pattern)'"]))
        #expect(problems.map(\.field) == ["policies[0].conditions[0].regex"])
        #expect(problems.first?.message.hasPrefix("regular expression does not compile") == true)
    }

    @Test("grant rules: audiences non-empty, scopes valid, defaults among scopes, reserved claims not mapped")
    func grantRules() {
        let noAudiences = Self.problems(Self.minimal().replacing("audiences: [api]", with: "audiences: []"))
        #expect(noAudiences.map(\.field) == ["policies[0].grant.audiences"])
        let emptyAudience = Self.problems(Self.minimal().replacing("audiences: [api]", with: "audiences: [\"\"]"))
        #expect(emptyAudience.map(\.field) == ["policies[0].grant.audiences[0]", "policies[0].grant.audiences"])
        let badScope = Self.problems(Self.minimal().replacing("scopes: [read]", with: "scopes: [\"read write\"]"))
        #expect(badScope.map(\.field) == ["policies[0].grant.scopes"])
        let quoteScope = Self.problems(Self.minimal().replacing("scopes: [read]", with: #"scopes: ['a"b']"#))
        #expect(quoteScope.map(\.field) == ["policies[0].grant.scopes"])
        let badDefault = Self.problems(Self.minimal(grantLines: ["default_scopes: [admin]"]))
        #expect(badDefault.map(\.field) == ["policies[0].grant.default_scopes"])
        let reserved = Self.problems(Self.minimal(grantLines: ["claims:", "  sub: [kubernetes.io, namespace]", "  scope: x"]))
        #expect(reserved.map(\.field).sorted() == ["policies[0].grant.claims.scope", "policies[0].grant.claims.sub"])
        let notBool = Self.problems(Self.minimal(grantLines: ["may_outlive_subject_token: yes"]))
        #expect(notBool.map(\.message) == ["expected true or false"])
    }

    // MARK: - YAML 1.1 coercions (security-cases.md case 95)

    @Test(
        "condition values: plain scalars never become YAML 1.1 booleans, octals, floats or dates",
        arguments: [
            Case<(String, JSONValue)>("no", ("no", "no")),
            Case<(String, JSONValue)>("yes", ("yes", "yes")),
            Case<(String, JSONValue)>("on", ("on", "on")),
            Case<(String, JSONValue)>("off", ("off", "off")),
            Case<(String, JSONValue)>("0755", ("0755", "0755")),
            Case<(String, JSONValue)>("1e3", ("1e3", "1e3")),
            Case<(String, JSONValue)>("1.5", ("1.5", "1.5")),
            Case<(String, JSONValue)>("0x1F", ("0x1F", "0x1F")),
            Case<(String, JSONValue)>("date", ("2026-01-01", "2026-01-01")),
            Case<(String, JSONValue)>("tilde", ("~", "~")),
            Case<(String, JSONValue)>("True", ("True", "True")),
            Case<(String, JSONValue)>("plain true", ("true", true)),
            Case<(String, JSONValue)>("plain false", ("false", false)),
            Case<(String, JSONValue)>("plain null", ("null", .null)),
            Case<(String, JSONValue)>("plain integer", ("123", 123)),
            Case<(String, JSONValue)>("negative integer", ("-7", -7)),
            Case<(String, JSONValue)>("double-quoted true", (#""true""#, "true")),
            Case<(String, JSONValue)>("single-quoted 123", ("'123'", "123")),
            Case<(String, JSONValue)>("quoted null", (#""null""#, "null")),
        ]
    )
    func conditionScalars(_ input: Case<(String, JSONValue)>) throws {
        let (text, expected) = input.value
        #expect(try Self.equalsValue(text) == expected)
    }

    @Test("issuer fields: `no` and `on` stay strings")
    func issuerScalars() throws {
        let config = try Self.config(Self.minimal().replacing("audiences: [wif]", with: "audiences: [no, on, 0755]"))
        #expect(config.issuers[0].audiences == ["no", "on", "0755"])
    }

    @Test("booleans must be spelled true or false", arguments: ["yes", "on", "True", "1"])
    func booleanSpelling(_ text: String) {
        let problems = Self.problems(Self.minimal(issuerLines: ["allow_insecure_loopback: \(text)"]))
        #expect(problems.map(\.field) == ["issuers[0].allow_insecure_loopback"])
        #expect(problems.first?.message == "expected true or false")
    }
}
