/// Checks that need the whole config (a policy's issuer may be in another file): owner pinning on shared
/// issuers (problems), and the warnings `wif validate` prints.
extension Reader {
    /// GitHub and GitLab send these ids as JSON strings; an unquoted number in `equals`/`one_of` never matches.
    static let stringIDClaims: [IssuerFamily: (platform: String, claims: Set<String>)] = [
        .github: ("GitHub", ["repository_id", "repository_owner_id", "actor_id", "run_id", "run_number", "run_attempt"]),
        .gitlab: ("GitLab", ["namespace_id", "project_id", "user_id", "pipeline_id", "job_id", "runner_id"]),
    ]

    /// Claims that name an owner by a name someone else can register once it is free, and the id to pin
    /// instead, by family.
    static let reusableNames: [IssuerFamily: [String: String]] = [
        .github: ["repository_owner": "repository_owner_id", "repository": "repository_id"],
        .gitlab: ["namespace_path": "namespace_id", "project_path": "project_id"],
    ]

    /// Checks every policy and actor rule against its issuer; `referenced` names every issuer a policy entry
    /// names, including entries with problems of their own.
    mutating func checkPolicies(
        _ policies: [(TrustPolicy, TrustConfigLocation)],
        issuers: [(TrustedIssuer, TrustConfigLocation)],
        referenced: Set<String>
    ) {
        let byName = Dictionary(issuers.map { ($0.0.name, $0.0) }, uniquingKeysWith: { first, _ in first })
        for (policy, location) in policies {
            if let issuer = byName[policy.issuer] {
                checkConditions(policy.conditions, issuer: issuer, at: location, field: location.field + ".conditions", whose: "policy")
            }
            for (index, actor) in (policy.delegation?.actors ?? []).enumerated() {
                guard let issuer = byName[actor.issuer] else { continue }
                let field = location.field + ".delegation.actors[\(index)].conditions"
                checkConditions(actor.conditions, issuer: issuer, at: location, field: field, whose: "actor rule")
            }
        }
        for (issuer, location) in issuers where !referenced.contains(issuer.name) {
            warnings.append(
                TrustConfigProblem(
                    file: location.file,
                    line: location.line,
                    field: location.field,
                    message: "no policy or actor rule names issuer \(issuer.name.debugDescription): its tokens are always refused"
                )
            )
        }
    }

    /// One condition list (a policy's, or an actor rule's) against the issuer it applies to.
    private mutating func checkConditions(
        _ conditions: [ClaimCondition],
        issuer: TrustedIssuer,
        at location: TrustConfigLocation,
        field: String,
        whose: String
    ) {
        let family = IssuerFamily.of(issuer)
        let listLine = lines[TrustConfigLocation.key(file: location.file, field: field)] ?? location.line
        func at(_ index: Int, _ condition: ClaimCondition) -> (field: String, line: Int?) {
            let conditionField = "\(field)[\(index)].\(condition.matcherKey)"
            return (conditionField, lines[TrustConfigLocation.key(file: location.file, field: conditionField)] ?? listLine)
        }
        func note(_ index: Int, _ condition: ClaimCondition, _ message: String) {
            let (conditionField, line) = at(index, condition)
            warnings.append(TrustConfigProblem(file: location.file, line: line, field: conditionField, message: message))
        }

        // A shared issuer: the owner must be pinned exactly, or the policy admits the whole platform.
        let shared = SharedIssuer.of(issuer)
        if let shared, !shared.isPinned(by: conditions) {
            let owners = shared.ownerClaims.map(\.description).joined(separator: " or ")
            var message =
                "\(issuer.issuer) is shared by \(shared.sharedBy): pin the owner with an exact condition (equals or one_of) on \(owners), or this \(whose) admits tokens of anyone on it"
            // The name that looks most like an owner pin: the claims in the order the rule lists them.
            let written = Set(conditions.map(\.claim.description))
            if let name = shared.nameClaims.first(where: written.contains) {
                message += " (\(name) is a name, which someone else can register once it is free; it does not pin the owner)"
            }
            problems.append(TrustConfigProblem(file: location.file, line: listLine, field: field, message: message))
        }

        // Names that can be re-registered, where no id pins the owner beside them.
        if shared == nil, let family, let names = Self.reusableNames[family] {
            let claims = Set(conditions.map(\.claim.description))
            for (index, condition) in conditions.enumerated() {
                // An id beside the name pins the owner whatever the name is.
                guard let id = names[condition.claim.description], claims.isDisjoint(with: names.values) else { continue }
                note(
                    index,
                    condition,
                    "\(condition.claim) is a name, which someone else can register after a rename or deletion: pin \(id) (an id that is never reused)"
                )
            }
        }

        // Ids the platform sends as strings, written as numbers.
        if let family, let (platform, ids) = Self.stringIDClaims[family] {
            for (index, condition) in conditions.enumerated() where ids.contains(condition.claim.description) {
                let values: [JSONValue]
                switch condition.matcher {
                case .equals(let value): values = [value]
                case .oneOf(let options): values = options
                default: values = []
                }
                if let number = values.first(where: { $0.numberValue != nil }) {
                    note(
                        index,
                        condition,
                        "\(platform) sends \(condition.claim) as a string: quote it (\(number.displayText.debugDescription)), the number \(number.displayText) never matches"
                    )
                }
            }
        }

        // Claim paths written with dots: `kubernetes.io.namespace` is one claim of that literal name.
        for (index, condition) in conditions.enumerated() {
            let segments = condition.claim.segments
            if segments.count == 1, segments[0].hasPrefix("kubernetes.io.") {
                let path = ["kubernetes.io"] + segments[0].dropFirst("kubernetes.io.".count).split(separator: ".").map(String.init)
                note(
                    index,
                    condition,
                    "claim paths are never split on dots: this is one claim literally named \(segments[0].debugDescription); write [\(path.joined(separator: ", "))]"
                )
            }
        }

        // Patterns that admit every workload of a kind.
        let findings = conditions.map { PatternBreadth.finding(for: $0, family: family) }
        var pinned: Set<PatternBreadth.Tenant> = []
        for finding in findings {
            if case .pins(let tenants) = finding { pinned.formUnion(tenants) }
        }
        for (index, (condition, finding)) in zip(conditions, findings).enumerated() {
            guard let pattern = condition.matcher.patternText else { continue }
            switch finding {
            case .matchesAnything:
                note(
                    index,
                    condition,
                    "\(pattern.debugDescription) matches any value: this condition pins nothing; remove it or write what it should require"
                )
            case .startsWithWildcard where pinned.isEmpty:
                note(index, condition, "\(pattern.debugDescription) starts with a wildcard, so it pins no identity: start it with the literal part")
            case .admitsEveryTenant(let tenant) where !pinned.contains(tenant):
                let example = condition.claim == ClaimPath(["sub"]) ? ", e.g. \(tenant.subExample)" : ""
                note(
                    index,
                    condition,
                    "\(pattern.debugDescription) pins no \(tenant.noun): it admits every \(tenant.noun) on this issuer; write the \(tenant.noun) literally\(example)"
                )
            case .tenantIsPattern(let tenant) where !pinned.contains(tenant):
                note(
                    index,
                    condition,
                    "\(pattern.debugDescription) leaves the \(tenant.noun) to a pattern: it admits every \(tenant.noun) whose name fits, including ones created later; write the \(tenant.noun) literally"
                )
            default:
                break
            }
        }
    }
}

extension ClaimCondition {
    /// The YAML key of this condition's matcher.
    var matcherKey: String {
        switch matcher {
        case .equals: "equals"
        case .oneOf: "one_of"
        case .glob: "glob"
        case .regex: "regex"
        case .contains: "contains"
        }
    }
}

extension ClaimCondition.Matcher {
    /// The pattern of a `glob` or `regex` matcher.
    var patternText: String? {
        switch self {
        case .glob(let glob): glob.pattern
        case .regex(let regex): regex.pattern
        default: nil
        }
    }
}
