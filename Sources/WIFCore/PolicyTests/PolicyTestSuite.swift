import Yams

/// Reads policy test files (`tests/*.yaml` beside a trust-config) into ``PolicyTestCase`` values, as
/// strictly as the trust-config loader reads config: unknown keys, missing fields and references to
/// issuers or policies the config does not have are problems with file, line and field.
///
/// ```yaml
/// cases:
///   - name: checkout reads orders by default
///     issuer: prod-cluster
///     claims:
///       sub: system:serviceaccount:payments:checkout
///       kubernetes.io: {namespace: payments, serviceaccount: {name: checkout}}
///     request:
///       audience: https://orders.internal.example.com
///     expect:
///       granted: {policy: payments-checkout, scope: [orders.read], lifetime: 15m}
/// ```
///
/// Pure: it receives file names and contents; reading the folder is the command's job.
public enum PolicyTestSuite {
    /// The OAuth `error` values wif answers with, for `expect.denied.oauth_error`.
    static let oauthErrors: Set<String> = [
        "invalid_request", "invalid_grant", "invalid_client", "invalid_target", "invalid_scope", "unsupported_grant_type",
        "temporarily_unavailable", "server_error",
    ]

    /// Loads every case of `files` (in the order given) and checks that each names an issuer of `config`
    /// and, when it expects a grant, a policy of that issuer. Case names must be unique across files.
    public static func load(_ files: [TrustConfigLoader.File], config: TrustConfig) throws(PolicyTestFileError) -> [PolicyTestCase] {
        var reader = Reader()
        var cases: [PolicyTestCase] = []
        for file in files {
            guard let root = reader.compose(file) else { continue }
            guard let top = reader.mapping(root, "", allowed: ["cases"]), let list = top["cases"] else { continue }
            for (index, node) in reader.sequence(list, "cases").enumerated() {
                if let testCase = reader.policyTestCase(node, "cases[\(index)]", config: config) { cases.append(testCase) }
            }
        }
        var seen: [String: PolicyTestCase] = [:]
        for testCase in cases {
            if let first = seen[testCase.name] {
                reader.problems.append(
                    TrustConfigProblem(
                        file: testCase.file,
                        line: testCase.line,
                        field: "name",
                        message: "duplicate case name \(testCase.name.debugDescription) (first at \(first.location))"
                    )
                )
            } else {
                seen[testCase.name] = testCase
            }
        }
        guard reader.problems.isEmpty else { throw PolicyTestFileError(problems: reader.problems) }
        return cases
    }
}

extension Reader {
    fileprivate mutating func policyTestCase(_ node: Node, _ field: String, config: TrustConfig) -> PolicyTestCase? {
        guard
            let map = mapping(
                node,
                field,
                allowed: ["name", "issuer", "claims", "request", "expect"],
                required: ["name", "issuer", "claims", "expect"]
            )
        else { return nil }
        let name = string(map["name"], join(field, "name"))
        let issuerName = string(map["issuer"], join(field, "issuer"))
        var issuer: TrustedIssuer?
        if let issuerName {
            issuer = config.issuers.first { $0.name == issuerName }
            if issuer == nil {
                problem(
                    map["issuer"],
                    join(field, "issuer"),
                    "no issuer is named \(issuerName.debugDescription) (configured: \(config.issuers.map(\.name).joined(separator: ", ")))"
                )
            }
        }
        var claims: [String: JSONValue]?
        if let claimsNode = map["claims"] {
            claims = testClaimValue(claimsNode, join(field, "claims"))?.objectValue
            if claims == nil, claimsNode.mapping == nil { problem(claimsNode, join(field, "claims"), "expected a mapping of claim names to values") }
            if let members = claims, members["sub"] == nil {
                problem(claimsNode, join(field, "claims.sub"), "is required (the subject token's sub)")
                claims = nil
            }
        }
        let request = map["request"].map { testRequest($0, join(field, "request")) } ?? TokenRequestParameters()
        let expectation = map["expect"].flatMap { testExpectation($0, join(field, "expect"), issuer: issuer, config: config) }
        guard let name, let issuerName, issuer != nil, let claims, let request, let expectation else { return nil }
        return PolicyTestCase(
            name: name,
            file: file,
            line: node.line,
            issuer: issuerName,
            claims: claims,
            request: request,
            expectation: expectation
        )
    }

    private mutating func testRequest(_ node: Node, _ field: String) -> TokenRequestParameters? {
        let problemsBefore = problems.count
        guard
            let map = mapping(
                node,
                field,
                allowed: ["grant_type", "audience", "resource", "scope", "client_id", "requested_token_type", "subject_token_type"]
            )
        else { return nil }
        let parameters = TokenRequestParameters(
            grantType: string(map["grant_type"], join(field, "grant_type")),
            audiences: stringOrList(map["audience"], join(field, "audience")) ?? [],
            resources: stringOrList(map["resource"], join(field, "resource")) ?? [],
            scope: stringOrList(map["scope"], join(field, "scope")).map { $0.joined(separator: " ") },
            clientID: string(map["client_id"], join(field, "client_id")),
            requestedTokenType: string(map["requested_token_type"], join(field, "requested_token_type")),
            subjectTokenType: string(map["subject_token_type"], join(field, "subject_token_type"))
        )
        return problems.count == problemsBefore ? parameters : nil
    }

    private mutating func testExpectation(_ node: Node, _ field: String, issuer: TrustedIssuer?, config: TrustConfig) -> PolicyTestCase.Expectation? {
        guard let map = mapping(node, field, allowed: ["granted", "denied"]) else { return nil }
        switch (map["granted"], map["denied"]) {
        case (let granted?, nil):
            return testGrant(granted, join(field, "granted"), issuer: issuer, config: config).map { .granted($0) }
        case (nil, let denied?):
            return testDenial(denied, join(field, "denied")).map { .denied($0) }
        default:
            problem(node, field, "name exactly one of granted or denied")
            return nil
        }
    }

    private mutating func testGrant(_ node: Node, _ field: String, issuer: TrustedIssuer?, config: TrustConfig) -> PolicyTestCase.Expectation.Grant? {
        let problemsBefore = problems.count
        guard
            let map = mapping(node, field, allowed: ["policy", "audience", "scope", "claims", "lifetime"], required: ["policy"]),
            let policy = string(map["policy"], join(field, "policy"))
        else { return nil }
        if let issuer {
            let ofIssuer = config.policies(for: issuer).map(\.name)
            if !ofIssuer.contains(policy) {
                let elsewhere = config.policies.first { $0.name == policy }.map { " (it is a policy of issuer \($0.issuer))" } ?? ""
                problem(
                    map["policy"],
                    join(field, "policy"),
                    "issuer \(issuer.name) has no policy named \(policy.debugDescription)\(elsewhere); its policies: "
                        + (ofIssuer.isEmpty ? "none" : ofIssuer.joined(separator: ", "))
                )
            }
        }
        var claims: [String: JSONValue]?
        if let claimsNode = map["claims"] {
            claims = testClaimValue(claimsNode, join(field, "claims"))?.objectValue
            if claims == nil, claimsNode.mapping == nil { problem(claimsNode, join(field, "claims"), "expected a mapping of claim names to values") }
        }
        let grant = PolicyTestCase.Expectation.Grant(
            policy: policy,
            audiences: stringOrList(map["audience"], join(field, "audience")),
            scopes: stringOrList(map["scope"], join(field, "scope"), splitSpaces: true),
            claims: claims,
            lifetime: duration(map["lifetime"], join(field, "lifetime"), max: TrustPolicy.Grant.maxMaxLifetime)
        )
        return problems.count == problemsBefore ? grant : nil
    }

    private mutating func testDenial(_ node: Node, _ field: String) -> PolicyTestCase.Expectation.Denial? {
        guard let map = mapping(node, field, allowed: ["error", "oauth_error"], required: ["error"]),
            let name = string(map["error"], join(field, "error"))
        else { return nil }
        guard let code = ExchangeError.Code(rawValue: name) else {
            problem(
                map["error"],
                join(field, "error"),
                "\(name.debugDescription) is not a wif error code (see docs/errors.md), e.g. no_policy_matched"
            )
            return nil
        }
        let oauthError = string(map["oauth_error"], join(field, "oauth_error"))
        if let oauthError, !PolicyTestSuite.oauthErrors.contains(oauthError) {
            problem(
                map["oauth_error"],
                join(field, "oauth_error"),
                "\(oauthError.debugDescription) is not an OAuth error wif answers with (one of: \(PolicyTestSuite.oauthErrors.sorted().joined(separator: ", ")))"
            )
            return nil
        }
        return PolicyTestCase.Expectation.Denial(error: code, oauthError: oauthError)
    }

    /// One string, or a list of strings. With `splitSpaces`, a single string is split at spaces
    /// (`scope: read write`).
    private mutating func stringOrList(_ node: Node?, _ field: String, splitSpaces: Bool = false) -> [String]? {
        guard let node else { return nil }
        if node.sequence != nil { return strings(node, field, nonEmpty: false) }
        guard let text = string(node, field) else { return nil }
        return splitSpaces ? text.split(separator: " ").map(String.init) : [text]
    }

    /// A claim value: mappings become JSON objects and lists JSON arrays; scalars follow the condition-value
    /// rule (plain `true`/`false`/`null` and plain integers are typed, everything else is a string).
    mutating func testClaimValue(_ node: Node, _ field: String) -> JSONValue? {
        guard count(node, field) else { return nil }
        switch node {
        case .scalar:
            visited -= 1  // jsonValue counts the node itself
            return jsonValue(node, field)
        case .sequence(let sequence):
            var elements: [JSONValue] = []
            for (index, element) in sequence.enumerated() {
                guard let value = testClaimValue(element, "\(field)[\(index)]") else { return nil }
                elements.append(value)
            }
            return .array(elements)
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            var valid = true
            for (keyNode, valueNode) in mapping {
                guard case .scalar(let key) = keyNode else {
                    problem(keyNode, field, "claim names must be plain strings")
                    valid = false
                    continue
                }
                if let value = testClaimValue(valueNode, join(field, key.string)) { members[key.string] = value } else { valid = false }
            }
            return valid ? .object(members) : nil
        case .alias:
            problem(node, field, "YAML aliases are not supported here")
            return nil
        }
    }
}
