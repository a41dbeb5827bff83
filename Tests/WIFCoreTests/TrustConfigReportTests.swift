import Testing
import WIFCore
import WIFTesting

/// ``TrustConfigLoader/loadReport(_:)``: problems, warnings, and how `wif validate` renders them.
@Suite("TrustConfigReport: problems, warnings and their rendering")
struct TrustConfigReportTests {
    static let cluster = """
        issuers:
          - name: cluster
            issuer: https://k8s.example.com
            keys: {jwks_file: cluster-jwks.json}
            audiences: [wif]
            algorithms: [RS256]
        policies:
          - name: reader
            issuer: cluster
            mode: audit
            conditions: [{claim: [kubernetes.io, namespace], equals: reports}]
            grant: {audiences: [https://api.example.com], scopes: []}
        """

    static func report(_ files: (String, String)...) -> TrustConfigReport {
        TrustConfigLoader.loadReport(files.map { TrustConfigLoader.File(name: $0.0, contents: $0.1) })
    }

    @Test("a config with warnings only loads, and load() returns the same config")
    func warningsDoNotStopLoading() throws {
        let report = Self.report(("c.yaml", Self.cluster))
        #expect(report.problems.isEmpty)
        #expect(report.warnings.map(\.field) == ["policies[0].grant.scopes"])
        #expect(report.warnings.first?.line == 12)
        let config = try #require(report.config)
        #expect(config.policies.map(\.name) == ["reader"])
        #expect(try TrustConfigLoader.load([.init(name: "c.yaml", contents: Self.cluster)]).policies.map(\.name) == ["reader"])
        #expect(report.passes(strict: false))
        #expect(!report.passes(strict: true))
    }

    @Test("a problem means no config, but the valid parts and their locations are still reported")
    func problemsMeanNoConfig() {
        let report = Self.report(("a.yaml", Self.cluster), ("b.yaml", "policies:\n  - name: broken\n    issuer: cluster\n"))
        #expect(report.config == nil)
        #expect(report.problems.map(\.field) == ["policies[0].conditions", "policies[0].grant"])
        #expect(report.issuers.map(\.name) == ["cluster"])
        #expect(report.policyLocations["reader"] == TrustConfigLocation(file: "a.yaml", line: 8, field: "policies[0]"))
        #expect(report.issuerLocations["cluster"] == TrustConfigLocation(file: "a.yaml", line: 2, field: "issuers[0]"))
        #expect(report.line(of: "policies[0].mode", in: "a.yaml") == 10)
        #expect(!report.passes(strict: false))
    }

    @Test("a duplicate name is reported even when the other entry has a problem of its own")
    func duplicateOfABrokenEntry() {
        let broken = Self.cluster.replacing("conditions: [{claim: [kubernetes.io, namespace], equals: reports}]", with: "conditions: []")
        let report = Self.report(("a.yaml", broken), ("b.yaml", Self.cluster.replacing("https://k8s.example.com", with: "https://k8s2.example.com")))
        #expect(report.problems.map(\.message).contains(#"duplicate policy name "reader" (first at a.yaml:8)"#))
        #expect(report.problems.map(\.message).contains(#"duplicate issuer name "cluster" (first at a.yaml:2)"#))
    }

    @Test("an issuer that no policy or actor rule names draws a warning; one named by a broken policy does not")
    func unusedIssuer() {
        let unused = Self.report(("c.yaml", Self.cluster.replacing("    issuer: cluster\n", with: "    issuer: cluster2\n")))
        #expect(unused.problems.map(\.field) == ["policies[0].issuer"])
        #expect(unused.warnings.map(\.message).contains(#"no policy or actor rule names issuer "cluster": its tokens are always refused"#))
        let brokenPolicy = Self.report(("c.yaml", Self.cluster.replacing("mode: audit", with: "mode: shadow")))
        #expect(brokenPolicy.problems.map(\.field) == ["policies[0].mode"])
        #expect(!brokenPolicy.warnings.map(\.message).contains { $0.hasPrefix("no policy") })
    }

    @Test("a claim path written with dots draws a warning naming the path to write")
    func dottedClaimPath() {
        let report = Self.report(
            (
                "c.yaml",
                Self.cluster.replacing(
                    "[{claim: [kubernetes.io, namespace], equals: reports}]",
                    with: "[{claim: kubernetes.io.namespace, equals: reports}]"
                )
            )
        )
        #expect(
            report.warnings.first
                == TrustConfigProblem(
                    file: "c.yaml",
                    line: 11,
                    field: "policies[0].conditions[0].equals",
                    message:
                        #"claim paths are never split on dots: this is one claim literally named "kubernetes.io.namespace"; write [kubernetes.io, namespace]"#
                )
        )
    }

    // MARK: - Rendering

    @Test("text: problems, then warnings marked as such, then the summary")
    func text() {
        let report = Self.report(("c.yaml", Self.cluster), ("d.yaml", "policies: 7"))
        #expect(
            report.text(source: "cfg").split(separator: "\n").map(String.init) == [
                "d.yaml:1: policies: expected a list",
                "c.yaml:12: warning: policies[0].grant.scopes: the policy grants no scope: its tokens carry only an audience; list the scopes the API checks, or keep [] if the audience alone authorizes",
                "cfg: not valid (1 error, 1 warning)",
            ]
        )
    }

    @Test(
        "the summary line",
        arguments: [
            Case("valid, lenient", (false, "cfg: valid (1 issuer, 1 policy, 1 in audit mode; 1 warning)")),
            Case("valid, strict", (true, "cfg: not valid with --strict (0 errors, 1 warning)")),
        ]
    )
    func summary(_ input: Case<(Bool, String)>) {
        #expect(Self.report(("c.yaml", Self.cluster)).summary(source: "cfg", strict: input.value.0) == input.value.1)
    }

    @Test("json: one object, keys sorted, null for a missing line")
    func json() {
        let report = Self.report(("c.yaml", Self.cluster)).prepending(problems: [
            TrustConfigProblem(file: "x.yaml", line: nil, field: "", message: "cannot read the file")
        ])
        #expect(
            report.json(source: "cfg")
                == #"{"audit_policies":1,"errors":[{"field":"","file":"x.yaml","line":null,"message":"cannot read the file"}],"issuers":1,"policies":1,"source":"cfg","strict":false,"valid":false,"warnings":[{"field":"policies[0].grant.scopes","file":"c.yaml","line":12,"message":"the policy grants no scope: its tokens carry only an audience; list the scopes the API checks, or keep [] if the audience alone authorizes"}]}"#
        )
        #expect(report.config == nil)
    }

    // MARK: - Key files

    static let usableJWKS: [UInt8] = JSONValue.object(["keys": .array([TestKey.p256(keyID: "k1").publicJWK])]).serialized()

    /// (the file's bytes or nil, its path, problems, warnings)
    static let keyFileCases: [Case<([UInt8]?, String, [String], [String])>] = [
        Case("readable, one usable key", (Optional(usableJWKS), "cluster-jwks.json", [String](), [String]())),
        Case(
            "missing, relative",
            (nil, "cluster-jwks.json", [#"cannot read "cluster-jwks.json" (a path relative to the trust-config folder)"#], [])
        ),
        Case(
            "missing, absolute",
            (nil, "/etc/wif/jwks.json", [], [#""/etc/wif/jwks.json" cannot be read here: it must exist wherever wif serves this config"#])
        ),
        Case("not JSON", (Array("nope".utf8), "cluster-jwks.json", [#""cluster-jwks.json" is not a usable JWKS: "#], [])),
        Case(
            "no usable key",
            (Array(#"{"keys":[{"kty":"oct","k":"AAAA"}]}"#.utf8), "cluster-jwks.json", [#""cluster-jwks.json" has no key wif can use ("#], [])
        ),
    ]

    @Test("each jwks_file must hold a usable key set", arguments: keyFileCases)
    func keyFiles(_ input: Case<([UInt8]?, String, [String], [String])>) {
        let (bytes, path, problems, warnings) = input.value
        var asked: [String] = []
        let report = Self.report(("c.yaml", Self.cluster.replacing("cluster-jwks.json", with: path))).checkingKeyFiles { file in
            asked.append(file)
            return bytes
        }
        #expect(asked == [path])
        #expect(report.problems.count == problems.count)
        for (problem, expected) in zip(report.problems, problems) {
            #expect(problem.field == "issuers[0].keys.jwks_file")
            #expect(problem.line == 4)
            #expect(problem.message.hasPrefix(expected), "\(problem.message)")
        }
        let keyWarnings = report.warnings.filter { $0.field.hasPrefix("issuers") }.map(\.message)
        #expect(keyWarnings == warnings)
        #expect((report.config != nil) == problems.isEmpty)
    }
}
