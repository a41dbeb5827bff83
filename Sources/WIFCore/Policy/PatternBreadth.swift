/// How much of a workload's identity a `glob` or `regex` condition pins: the heuristic behind `wif validate`'s
/// "pattern admits every workload" warnings.
///
/// Identity claims have a known shape: a constant prefix, then the **tenant** (the part that separates one
/// team's workloads from another's, and on a public platform the part anyone can register), then the rest.
///
/// | claim | shape | tenant |
/// |---|---|---|
/// | `sub` (Kubernetes) | `system:serviceaccount:` NAMESPACE `:` NAME | namespace |
/// | `sub` (GitHub) | `repo:` OWNER `/` REPO `:` … | repository owner |
/// | `sub` (GitLab) | `project_path:` GROUP `/` … | top-level group |
/// | `sub` (SPIFFE) | `spiffe://` TRUST-DOMAIN `/` [`ns/`] SEGMENT `/` … | first path segment (after SPIRE's `ns/`) |
/// | `[kubernetes.io, namespace]` | NAMESPACE | namespace |
/// | `repository`, `workflow_ref` | OWNER `/` … | repository owner |
/// | `job_workflow_ref` | OWNER `/` … | the reusable workflow's owner |
/// | `repository_owner` | OWNER | repository owner |
/// | `project_path`, `namespace_path` | GROUP [`/` …] | top-level group |
///
/// A pattern is taken apart into the literal text each of its alternatives must start with (a glob up to its
/// first `*` or `?`; a regex up to its first construct that is not a literal, expanding groups of literal
/// alternatives such as `(payments|orders)`). The constant prefix is stripped, and the tenant is pinned when
/// the remaining literal text holds the whole tenant segment, up to its separator. Otherwise the pattern
/// admits **every** tenant (nothing of it is literal: `repo:*`, `system:serviceaccount:*:*`, `repo:.*`) or
/// **any tenant whose name fits** (`repo:acme*`). A `sub` pattern that starts with a wildcard pins nothing.
/// A pattern with no wildcard at all pins everything it names.
enum PatternBreadth {
    /// The part of an identity that tells tenants apart.
    enum Tenant: Hashable, Sendable, CaseIterable {
        case namespace, githubOwner, workflowOwner, gitlabGroup, spiffePath

        var noun: String {
            switch self {
            case .namespace: "namespace"
            case .githubOwner: "repository owner"
            case .workflowOwner: "reusable workflow's owner"
            case .gitlabGroup: "top-level group"
            case .spiffePath: "workload path"
            }
        }

        /// A `sub` pattern that pins the tenant, for messages.
        var subExample: String {
            switch self {
            case .namespace: "system:serviceaccount:NAMESPACE:*"
            case .githubOwner, .workflowOwner: "repo:OWNER/*"
            case .gitlabGroup: "project_path:GROUP/*"
            case .spiffePath: "spiffe://TRUST-DOMAIN/ns/NAMESPACE/sa/*"
            }
        }
    }

    /// What a condition pins.
    enum Finding: Hashable, Sendable {
        /// The condition pins these tenants (exactly, or by a pattern whose tenant segment is literal).
        case pins(Set<Tenant>)
        /// The pattern's tenant segment is not literal at all: every tenant is admitted.
        case admitsEveryTenant(Tenant)
        /// The pattern's tenant segment is partly a pattern: every tenant whose name fits is admitted.
        case tenantIsPattern(Tenant)
        /// A `sub` pattern starting with a wildcard, on an issuer whose subject shape is not known.
        case startsWithWildcard
        /// A pattern that matches any value (`*`, `.*`): the condition pins nothing.
        case matchesAnything
        /// Nothing to say: not an identity claim with a known shape, or not a pattern.
        case unknown

        /// Wider findings first, so that the widest alternative of a pattern decides.
        fileprivate var width: Int {
            switch self {
            case .matchesAnything: 5
            case .startsWithWildcard: 4
            case .admitsEveryTenant: 3
            case .tenantIsPattern: 2
            case .unknown: 1
            case .pins: 0
            }
        }
    }

    /// A literal text every value an alternative of a pattern matches starts with; `exact` when the
    /// alternative is nothing but that text.
    struct LiteralPrefix: Hashable, Sendable {
        var text: String
        var exact: Bool
    }

    /// One shape an identity claim can have.
    private struct Shape {
        let prefix: String
        let tenant: Tenant
        let separator: Unicode.Scalar
    }

    /// The shapes of `sub`, in the order they are tried when the issuer's family is not known.
    private static let subShapes: [(IssuerFamily, Shape)] = [
        (.kubernetes, Shape(prefix: "system:serviceaccount:", tenant: .namespace, separator: ":")),
        (.github, Shape(prefix: "repo:", tenant: .githubOwner, separator: "/")),
        (.gitlab, Shape(prefix: "project_path:", tenant: .gitlabGroup, separator: "/")),
        (.spiffe, Shape(prefix: "spiffe://", tenant: .spiffePath, separator: "/")),
    ]

    /// Claims other than `sub` whose value starts with the tenant, with the family they belong to.
    private static let claimShapes: [ClaimPath: (IssuerFamily, Shape)] = [
        ClaimPath(["kubernetes.io", "namespace"]): (.kubernetes, Shape(prefix: "", tenant: .namespace, separator: ":")),
        ClaimPath(["repository"]): (.github, Shape(prefix: "", tenant: .githubOwner, separator: "/")),
        ClaimPath(["repository_owner"]): (.github, Shape(prefix: "", tenant: .githubOwner, separator: "/")),
        ClaimPath(["workflow_ref"]): (.github, Shape(prefix: "", tenant: .githubOwner, separator: "/")),
        ClaimPath(["job_workflow_ref"]): (.github, Shape(prefix: "", tenant: .workflowOwner, separator: "/")),
        ClaimPath(["project_path"]): (.gitlab, Shape(prefix: "", tenant: .gitlabGroup, separator: "/")),
        ClaimPath(["namespace_path"]): (.gitlab, Shape(prefix: "", tenant: .gitlabGroup, separator: "/")),
    ]

    /// Claims an exact condition on which pins a tenant. `job_workflow_ref` names the reusable workflow that
    /// ran, whose owner is not the calling repository's (any repository that can see the workflow may call it).
    private static let exactPins: [ClaimPath: Tenant] = [
        ClaimPath(["kubernetes.io", "namespace"]): .namespace,
        ClaimPath(["repository_owner_id"]): .githubOwner,
        ClaimPath(["repository_owner"]): .githubOwner,
        ClaimPath(["repository_id"]): .githubOwner,
        ClaimPath(["repository"]): .githubOwner,
        ClaimPath(["workflow_ref"]): .githubOwner,
        ClaimPath(["job_workflow_ref"]): .workflowOwner,
        ClaimPath(["namespace_id"]): .gitlabGroup,
        ClaimPath(["namespace_path"]): .gitlabGroup,
        ClaimPath(["project_id"]): .gitlabGroup,
        ClaimPath(["project_path"]): .gitlabGroup,
    ]

    /// What one condition pins, read against the issuer's family (nil: recognise the shape by the pattern).
    static func finding(for condition: ClaimCondition, family: IssuerFamily?) -> Finding {
        let isSub = condition.claim == ClaimPath(["sub"])
        let exact: Finding = isSub ? .pins(Set(Tenant.allCases)) : exactPins[condition.claim].map { .pins([$0]) } ?? .unknown
        let prefixes: [LiteralPrefix]
        switch condition.matcher {
        case .equals, .oneOf:
            return exact
        case .contains:
            return .unknown
        case .glob(let glob):
            if glob.isWildcardOnly { return .matchesAnything }
            prefixes = [LiteralPrefix(text: glob.literalPrefix, exact: glob.isLiteral)]
        case .regex(let regex):
            if !condition.narrowsIdentity { return .matchesAnything }
            prefixes = literalPrefixes(ofRegex: regex.pattern)
        }
        // The widest alternative decides; an exact alternative pins what an exact condition pins.
        let findings = prefixes.map { $0.exact ? exact : finding(for: $0.text, claim: condition.claim, isSub: isSub, family: family) }
        return findings.max { $0.width < $1.width } ?? .unknown
    }

    private static func finding(for literal: String, claim: ClaimPath, isSub: Bool, family: IssuerFamily?) -> Finding {
        if isSub {
            if let family {
                guard let shape = subShapes.first(where: { $0.0 == family })?.1 else { return literal.isEmpty ? .startsWithWildcard : .unknown }
                return judge(literal, shape)
            }
            if literal.isEmpty { return .startsWithWildcard }
            // The shape whose prefix the literal starts with, or, for a literal cut short inside a prefix
            // (`system:.*`), the shape it was cut from.
            let shape = subShapes.first { literal.hasPrefix($0.1.prefix) } ?? subShapes.first { $0.1.prefix.hasPrefix(literal) }
            return shape.map { judge(literal, $0.1) } ?? .unknown
        }
        guard let (owner, shape) = claimShapes[claim], family == nil || family == owner else { return .unknown }
        return judge(literal, shape)
    }

    /// Strips the shape's constant prefix from a literal prefix and judges the tenant segment after it.
    private static func judge(_ literal: String, _ shape: Shape) -> Finding {
        guard literal.hasPrefix(shape.prefix) else {
            // A literal shorter than the constant prefix pins nothing of the identity; one that departs from
            // it is another shape (a customised subject), about which nothing is known.
            return shape.prefix.hasPrefix(literal) ? .admitsEveryTenant(shape.tenant) : .unknown
        }
        var rest = Substring(literal.dropFirst(shape.prefix.count))
        if shape.tenant == .spiffePath {
            // The trust domain, then SPIRE's Kubernetes convention `ns/NAMESPACE/...` when present.
            guard let slash = rest.firstIndex(of: "/") else { return .admitsEveryTenant(shape.tenant) }
            rest = rest[rest.index(after: slash)...]
            if rest.hasPrefix("ns/") { rest = rest.dropFirst(3) }
        }
        let scalars = rest.unicodeScalars
        if let separator = scalars.firstIndex(of: shape.separator) {
            return separator == scalars.startIndex ? .admitsEveryTenant(shape.tenant) : .pins([shape.tenant])
        }
        return rest.isEmpty ? .admitsEveryTenant(shape.tenant) : .tenantIsPattern(shape.tenant)
    }

    // MARK: - Literal prefixes of a regular expression

    /// Most prefixes tracked while expanding groups of alternatives; beyond it the analysis stops early.
    private static let maxPrefixes = 64

    /// The literal prefix of each top-level alternative of `pattern`. Conservative: it stops at the first
    /// construct it does not read as literal text, so a prefix is never longer than what the pattern fixes.
    static func literalPrefixes(ofRegex pattern: String) -> [LiteralPrefix] {
        alternatives(Array(pattern.unicodeScalars)).flatMap { prefixes(of: $0) }
    }

    /// Splits at `|` outside groups and character classes.
    private static func alternatives(_ scalars: [Unicode.Scalar]) -> [[Unicode.Scalar]] {
        var result: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        var depth = 0
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "\\", index + 1 < scalars.count {
                current.append(contentsOf: scalars[index...(index + 1)])
                index += 2
                continue
            }
            if scalar == "[" {
                let end = classEnd(scalars, from: index)
                current.append(contentsOf: scalars[index..<end])
                index = end
                continue
            }
            if scalar == "(" { depth += 1 }
            if scalar == ")" { depth -= 1 }
            if scalar == "|", depth == 0 {
                result.append(current)
                current = []
            } else {
                current.append(scalar)
            }
            index += 1
        }
        result.append(current)
        return result
    }

    /// The index just past the character class opening at `start`.
    private static func classEnd(_ scalars: [Unicode.Scalar], from start: Int) -> Int {
        var index = start + 1
        if index < scalars.count, scalars[index] == "^" { index += 1 }
        if index < scalars.count, scalars[index] == "]" { index += 1 }
        while index < scalars.count, scalars[index] != "]" {
            index += scalars[index] == "\\" ? 2 : 1
        }
        return min(index + 1, scalars.count)
    }

    /// The index of the `)` closing the group opening at `start`, or nil.
    private static func groupEnd(_ scalars: [Unicode.Scalar], from start: Int) -> Int? {
        var depth = 0
        var index = start
        while index < scalars.count {
            switch scalars[index] {
            case "\\": index += 1
            case "[": index = classEnd(scalars, from: index) - 1
            case "(": depth += 1
            case ")":
                depth -= 1
                if depth == 0 { return index }
            default: break
            }
            index += 1
        }
        return nil
    }

    private static func prefixes(of alternative: [Unicode.Scalar]) -> [LiteralPrefix] {
        var current = [""]
        func stop() -> [LiteralPrefix] { current.map { LiteralPrefix(text: $0, exact: false) } }
        var index = alternative.first == "^" ? 1 : 0
        while index < alternative.count {
            let scalar = alternative[index]
            var atom: [String]?
            var next = index + 1
            var atomIsExact = true
            switch scalar {
            case "\\":
                guard index + 1 < alternative.count else { return stop() }
                let escaped = alternative[index + 1]
                // `\.`, `\/`, `\-`: the character itself. `\d`, `\w`, `\b`, `\1`, `\Q`…: not literal text.
                let isWordCharacter = escaped.properties.isAlphabetic || ("0"..."9").contains(escaped) || escaped == "_"
                atom = escaped.isASCII && !isWordCharacter ? [String(escaped)] : nil
                next = index + 2
            case "$" where index == alternative.count - 1:
                return current.map { LiteralPrefix(text: $0, exact: true) }
            case ".", "[", "]", "*", "+", "?", "{", "}", "^", "$", ")", "|":
                atom = nil
            case "(":
                guard let end = groupEnd(alternative, from: index) else { return stop() }
                var content = Array(alternative[(index + 1)..<end])
                if content.starts(with: ["?", ":"]) {
                    content.removeFirst(2)
                } else if content.first == "?" {
                    return stop()  // lookaround, named group or inline flags such as (?i)
                }
                let inner = literalPrefixes(ofRegex: String(String.UnicodeScalarView(content)))
                atom = inner.map(\.text)
                atomIsExact = inner.allSatisfy(\.exact)
                next = end + 1
            default:
                atom = [String(scalar)]
            }
            guard let texts = atom else { return stop() }
            let quantifier = next < alternative.count ? alternative[next] : nil
            let quantified = quantifier.map { ["*", "+", "?", "{"].contains($0) } ?? false
            // `x?`, `x*`, `x{0,2}`: x may be absent, so the prefix ends before it.
            if quantified, quantifier != "+" { return stop() }
            // `x+`, and a group whose alternatives are only partly literal: the first occurrence's literal
            // start is fixed, nothing after it is.
            if quantified || !atomIsExact {
                current = combine(current, texts) ?? current
                return stop()
            }
            guard let combined = combine(current, texts) else { return stop() }
            current = combined
            index = next
        }
        return current.map { LiteralPrefix(text: $0, exact: true) }
    }

    private static func combine(_ heads: [String], _ tails: [String]) -> [String]? {
        guard heads.count * tails.count <= maxPrefixes else { return nil }
        return heads.flatMap { head in tails.map { head + $0 } }
    }
}
