/// Where an issuer, a policy or a field is in a trust-config folder.
public struct TrustConfigLocation: Sendable, Hashable {
    public let file: String
    /// The 1-based line, where the YAML parser gives one.
    public let line: Int?
    /// The field, e.g. `policies[2]`.
    public let field: String

    public init(file: String, line: Int?, field: String) {
        self.file = file
        self.line = line
        self.field = field
    }

    /// The key of a field's line in ``TrustConfigReport``'s line table.
    static func key(file: String, field: String) -> String { file + "\u{0}" + field }
}

/// Everything `wif validate` reports on a trust-config: every problem (the config does not load), every
/// warning (it loads, but something in it is probably not what was meant), each located by file, line and
/// field, and the config itself when there is no problem.
///
/// Built by ``TrustConfigLoader/loadReport(_:)``; a caller that reads files can add what it finds on disk
/// (``prepending(problems:)``, ``checkingKeyFiles(_:)``).
public struct TrustConfigReport: Sendable {
    /// The config, exactly when ``problems`` is empty: what ``TrustConfigLoader/load(_:)`` returns.
    public let config: TrustConfig?
    /// The issuers and policies that were read without a problem of their own, even when others were not.
    public let issuers: [TrustedIssuer]
    public let policies: [TrustPolicy]
    /// Why the config does not load, in the order found.
    public let problems: [TrustConfigProblem]
    /// What loads but is probably a mistake, in file and line order.
    public let warnings: [TrustConfigProblem]
    /// Where each issuer and policy that was read is, by name.
    public let issuerLocations: [String: TrustConfigLocation]
    public let policyLocations: [String: TrustConfigLocation]
    /// The line of every field read, by ``TrustConfigLocation/key(file:field:)``.
    let fieldLines: [String: Int]

    init(
        config: TrustConfig?,
        issuers: [TrustedIssuer],
        policies: [TrustPolicy],
        problems: [TrustConfigProblem],
        warnings: [TrustConfigProblem],
        issuerLocations: [String: TrustConfigLocation],
        policyLocations: [String: TrustConfigLocation],
        fieldLines: [String: Int]
    ) {
        self.config = config
        self.issuers = issuers
        self.policies = policies
        self.problems = problems
        self.warnings = warnings
        self.issuerLocations = issuerLocations
        self.policyLocations = policyLocations
        self.fieldLines = fieldLines
    }

    /// Whether the config passes: no problem, and with `strict` no warning either.
    public func passes(strict: Bool) -> Bool {
        problems.isEmpty && (!strict || warnings.isEmpty)
    }

    /// This report with problems found before loading (a folder or file that cannot be read) in front; a
    /// config with such a problem does not load.
    public func prepending(problems earlier: [TrustConfigProblem]) -> TrustConfigReport {
        guard !earlier.isEmpty else { return self }
        return TrustConfigReport(
            config: nil,
            issuers: issuers,
            policies: policies,
            problems: earlier + problems,
            warnings: warnings,
            issuerLocations: issuerLocations,
            policyLocations: policyLocations,
            fieldLines: fieldLines
        )
    }

    /// The line of a field of a file, where it was read.
    public func line(of field: String, in file: String) -> Int? {
        fieldLines[TrustConfigLocation.key(file: file, field: field)]
    }

    // MARK: - Key files

    /// This report with each issuer's `jwks_file` (live or pinned) checked: the file must be readable and hold
    /// a JWKS with at least one key wif can use. `read` returns the bytes of a `jwks_file` as written in the
    /// config (the caller resolves it against the folder), or nil when it cannot be read.
    ///
    /// A relative path is part of the folder, so a missing file is a problem; an absolute path may only exist
    /// where wif serves (a mounted Secret), so a missing one is a warning. Keys wif skips are warnings.
    public func checkingKeyFiles(_ read: (String) -> [UInt8]?) -> TrustConfigReport {
        var problems = problems
        var warnings = warnings
        for issuer in issuers {
            var files: [String] = []
            if case .jwksFile(let file) = issuer.keySource { files.append(file) }
            if let pinned = issuer.pinnedKeysFile { files.append(pinned) }
            guard let location = issuerLocations[issuer.name] else { continue }
            let field = location.field + ".keys.jwks_file"
            let line = self.line(of: field, in: location.file) ?? location.line
            func report(_ message: String, warning: Bool) {
                let finding = TrustConfigProblem(file: location.file, line: line, field: field, message: message)
                if warning { warnings.append(finding) } else { problems.append(finding) }
            }
            for file in files {
                guard let bytes = read(file) else {
                    if file.hasPrefix("/") {
                        report("\(file.debugDescription) cannot be read here: it must exist wherever wif serves this config", warning: true)
                    } else {
                        report("cannot read \(file.debugDescription) (a path relative to the trust-config folder)", warning: false)
                    }
                    continue
                }
                let keys: JWKSet
                do {
                    keys = try JWKSet.parse(bytes)
                } catch {
                    report("\(file.debugDescription) is not a usable JWKS: \(error)", warning: false)
                    continue
                }
                if keys.keys.isEmpty {
                    report(
                        "\(file.debugDescription) has no key wif can use (\(keys.skipped.map(\.description).joined(separator: "; ")))",
                        warning: false
                    )
                } else {
                    for skipped in keys.skipped { report("\(file.debugDescription): \(skipped) is skipped", warning: true) }
                }
            }
        }
        return TrustConfigReport(
            config: problems.isEmpty ? config : nil,
            issuers: issuers,
            policies: policies,
            problems: problems,
            warnings: warnings,
            issuerLocations: issuerLocations,
            policyLocations: policyLocations,
            fieldLines: fieldLines
        )
    }

    // MARK: - Rendering

    /// The report as `wif validate` prints it: every problem as `file:line: field: message`, then every
    /// warning as `file:line: warning: field: message`, then a one-line summary naming `source`.
    ///
    /// ```text
    /// trust-config/20-github.yaml:31: policies[0].conditions: https://token.actions.githubusercontent.com is shared by every GitHub repository: …
    /// trust-config/10-prod.yaml:22: warning: policies[1].grant.scopes: the policy grants no scope: …
    /// trust-config: not valid (1 error, 1 warning)
    /// ```
    public func text(source: String, strict: Bool = false) -> String {
        var lines = problems.map(\.description)
        lines += warnings.map { warning in
            let location = warning.line.map { "\(warning.file):\($0)" } ?? warning.file
            return warning.field.isEmpty ? "\(location): warning: \(warning.message)" : "\(location): warning: \(warning.field): \(warning.message)"
        }
        lines.append(summary(source: source, strict: strict))
        return lines.joined(separator: "\n")
    }

    /// The summary line: `trust-config: valid (2 issuers, 5 policies, 1 in audit mode; 1 warning)` or
    /// `trust-config: not valid (2 errors, 1 warning)`.
    public func summary(source: String, strict: Bool = false) -> String {
        let counts = "\(Self.count(problems.count, "error")), \(Self.count(warnings.count, "warning"))"
        guard problems.isEmpty else { return "\(source): not valid (\(counts))" }
        guard passes(strict: strict) else { return "\(source): not valid with --strict (\(counts))" }
        let audited = policies.filter { $0.mode == .audit }.count
        let contents =
            [Self.count(issuers.count, "issuer"), Self.count(policies.count, "policy", plural: "policies")]
            + (audited > 0 ? ["\(audited) in audit mode"] : [])
        return "\(source): valid (\(contents.joined(separator: ", ")); \(Self.count(warnings.count, "warning")))"
    }

    /// The report as one JSON object, for tools:
    ///
    /// ```json
    /// {"audit_policies":0,"errors":[{"field":"…","file":"…","line":14,"message":"…"}],"issuers":2,"policies":5,
    ///  "source":"trust-config","strict":false,"valid":false,"warnings":[]}
    /// ```
    ///
    /// `line` is null where the parser gives none; `valid` is what the exit code says.
    public func json(source: String, strict: Bool = false) -> String {
        func entries(_ findings: [TrustConfigProblem]) -> JSONValue {
            .array(
                findings.map {
                    .object([
                        "file": .string($0.file), "line": $0.line.map { .number(Double($0)) } ?? .null, "field": .string($0.field),
                        "message": .string($0.message),
                    ])
                }
            )
        }
        let object: JSONValue = .object([
            "source": .string(source),
            "valid": .bool(passes(strict: strict)),
            "strict": .bool(strict),
            "errors": entries(problems),
            "warnings": entries(warnings),
            "issuers": .number(Double(issuers.count)),
            "policies": .number(Double(policies.count)),
            "audit_policies": .number(Double(policies.filter { $0.mode == .audit }.count)),
        ])
        return String(decoding: object.serialized(), as: UTF8.self)
    }

    private static func count(_ n: Int, _ noun: String, plural: String? = nil) -> String {
        "\(n) \(n == 1 ? noun : plural ?? noun + "s")"
    }
}
