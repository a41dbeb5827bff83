import Testing
import WIFCore

@Suite("Policies must tell workloads apart")
struct NarrowingConditionTests {
    static func config(conditions: String) -> String {
        """
        issuers:
          - name: gh
            issuer: https://github.example.com/_services/token
            keys: {discovery: true}
            audiences: [wif]
            algorithms: [RS256]
        policies:
          - name: p
            issuer: gh
            conditions:
        \(conditions)
            grant:
              audiences: [https://api.internal]
              scopes: [read]
        """
    }

    @Test(
        "conditions that hold for every token of the issuer are refused",
        arguments: [
            "      - {claim: aud, contains: wif}",
            "      - {claim: iss, equals: https://token.actions.githubusercontent.com}",
            "      - {claim: sub, glob: '*'}",
            "      - {claim: repository, regex: '.*'}",
            "      - {claim: aud, contains: wif}\n      - {claim: sub, glob: '*'}",
        ]
    )
    func refused(conditions: String) throws {
        let error = try #require(throws: TrustConfigError.self) {
            try TrustConfigLoader.load([.init(name: "gh.yaml", contents: Self.config(conditions: conditions))])
        }
        #expect(error.problems.contains { $0.field == "policies[0].conditions" && $0.message.hasPrefix("no condition narrows") })
    }

    @Test(
        "one identifying condition is enough",
        arguments: [
            "      - {claim: repository_id, equals: \"123\"}",
            "      - {claim: aud, contains: wif}\n      - {claim: sub, glob: 'repo:acme/*:ref:refs/heads/main'}",
        ]
    )
    func accepted(conditions: String) throws {
        let config = try TrustConfigLoader.load([.init(name: "gh.yaml", contents: Self.config(conditions: conditions))])
        #expect(config.policies.count == 1)
    }
}
