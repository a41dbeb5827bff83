import Yams

/// Compiles trust-config YAML documents into a ``TrustConfig`` (STYLE.md habit 4): every field is checked,
/// every problem is reported with file, line and field, and nothing half-valid is ever returned.
///
/// The loader is pure: it receives file names and contents; reading the folder is ``WIFSources``' job.
public enum TrustConfigLoader {
    /// Largest trust-config file accepted.
    public static let maxFileSize = 1024 * 1024
    /// YAML nodes visited per file at the most (bounds alias "billion laughs" expansion).
    static let maxNodes = 100_000

    /// One trust-config file.
    public struct File: Sendable {
        public let name: String
        public let contents: String
        public init(name: String, contents: String) {
            self.name = name
            self.contents = contents
        }
    }

    /// Loads files in the order given (callers sort by name) into one config.
    ///
    /// Throws ``TrustConfigError`` with every problem found; warnings do not stop a config from loading (see
    /// ``loadReport(_:)`` to get them).
    public static func load(_ files: [File]) throws(TrustConfigError) -> TrustConfig {
        let report = loadReport(files)
        guard let config = report.config else { throw TrustConfigError(problems: report.problems) }
        return config
    }

    /// Loads files in the order given (callers sort by name) and reports every problem and every warning,
    /// each with its file, line and field: what `wif validate` prints.
    ///
    /// The report's ``TrustConfigReport/config`` is the config exactly when there is no problem, the one
    /// ``load(_:)`` returns. Warnings never stop a config from loading.
    ///
    /// ```swift
    /// let report = TrustConfigLoader.loadReport([.init(name: "gh.yaml", contents: yaml)])
    /// for warning in report.warnings { print(warning) }   // gh.yaml:14: policies[0].conditions[0].glob: …
    /// ```
    public static func loadReport(_ files: [File]) -> TrustConfigReport {
        var reader = Reader()
        var issuers: [(TrustedIssuer, Location)] = []
        var policies: [(TrustPolicy, Location)] = []
        // Names of every issuer entry, valid or not, so that a policy naming a broken issuer is not also
        // reported as naming an unknown one.
        var declaredIssuerNames: Set<String> = []
        var referencedIssuerNames: Set<String> = []
        // The name of every entry, valid or not, so that a duplicate name is reported even when one of the two
        // entries has a problem of its own.
        var issuerNames: [(String, Location)] = []
        var policyNames: [(String, Location)] = []
        for file in files {
            guard let root = reader.compose(file) else { continue }
            guard let top = reader.mapping(root, "", allowed: ["issuers", "policies"]) else { continue }
            if let list = top["issuers"] {
                for (index, node) in reader.sequence(list, "issuers").enumerated() {
                    let field = "issuers[\(index)]"
                    if let name = node["name"]?.scalar?.string {
                        declaredIssuerNames.insert(name)
                        issuerNames.append((name, Location(file: file.name, line: node.line, field: field)))
                    }
                    if let issuer = reader.issuer(node, field) { issuers.append((issuer, Location(file: file.name, line: node.line, field: field))) }
                }
            }
            if let list = top["policies"] {
                for (index, node) in reader.sequence(list, "policies").enumerated() {
                    let field = "policies[\(index)]"
                    // Issuers this entry names, valid or not, so that an issuer is not reported unused because
                    // the policy naming it has a problem of its own.
                    if let name = node["issuer"]?.scalar?.string { referencedIssuerNames.insert(name) }
                    if let name = node["name"]?.scalar?.string {
                        policyNames.append((name, Location(file: file.name, line: node.line, field: field)))
                    }
                    for actor in node["delegation"]?["actors"]?.sequence ?? [] {
                        if let name = actor["issuer"]?.scalar?.string { referencedIssuerNames.insert(name) }
                    }
                    if let policy = reader.policy(node, field) { policies.append((policy, Location(file: file.name, line: node.line, field: field))) }
                }
            }
        }
        reader.checkUnique(issuerNames, what: "issuer name")
        reader.checkUnique(
            issuers.map { ($0.0.issuer, $0.1) },
            what: "issuer URL",
            hint: "two issuers with one `iss` make trust ambiguous; give each cluster a unique --service-account-issuer"
        )
        reader.checkUnique(policyNames, what: "policy name")
        for (policy, location) in policies {
            var references = [(policy.issuer, location.field + ".issuer")]
            for (index, actor) in (policy.delegation?.actors ?? []).enumerated() {
                references.append((actor.issuer, location.field + ".delegation.actors[\(index)].issuer"))
            }
            for (name, field) in references where !declaredIssuerNames.contains(name) {
                reader.problems.append(
                    TrustConfigProblem(file: location.file, line: location.line, field: field, message: "no issuer is named \(name.debugDescription)")
                )
            }
        }
        reader.checkPolicies(policies, issuers: issuers, referenced: referencedIssuerNames)
        let fileOrder = Dictionary(files.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        let warnings = reader.warnings.enumerated().sorted { a, b in
            let left = (fileOrder[a.element.file] ?? 0, a.element.line ?? 0, a.offset)
            let right = (fileOrder[b.element.file] ?? 0, b.element.line ?? 0, b.offset)
            return left < right
        }.map(\.element)
        let valid = reader.problems.isEmpty
        return TrustConfigReport(
            config: valid ? TrustConfig(issuers: issuers.map(\.0), policies: policies.map(\.0)) : nil,
            issuers: issuers.map(\.0),
            policies: policies.map(\.0),
            problems: reader.problems,
            warnings: warnings,
            issuerLocations: Dictionary(issuers.map { ($0.0.name, $0.1) }, uniquingKeysWith: { first, _ in first }),
            policyLocations: Dictionary(policies.map { ($0.0.name, $0.1) }, uniquingKeysWith: { first, _ in first }),
            fieldLines: reader.lines
        )
    }

    typealias Location = TrustConfigLocation
}

/// Walks YAML nodes, collecting problems instead of stopping at the first.
struct Reader {
    /// Starts reading `file`: its YAML tree, or nil with the problem recorded (too large, bad syntax, empty).
    mutating func compose(_ file: TrustConfigLoader.File) -> Node? {
        self.file = file.name
        visited = 0
        guard file.contents.utf8.count <= TrustConfigLoader.maxFileSize else {
            problem(nil, "", "file is larger than \(TrustConfigLoader.maxFileSize) bytes")
            return nil
        }
        do {
            return try Yams.compose(yaml: file.contents)
        } catch let error as YamlError {
            problems.append(TrustConfigProblem(file: file.name, line: error.line, field: "", message: "YAML syntax error: \(error)"))
        } catch {
            problem(nil, "", "YAML syntax error: \(error)")
        }
        return nil
    }

    var file = ""
    var problems: [TrustConfigProblem] = []
    /// Findings that do not stop the config from loading (`wif validate` prints them).
    var warnings: [TrustConfigProblem] = []
    /// The line of every mapping key read, by ``TrustConfigLocation/key(file:field:)``, for checks that run
    /// after the whole config is read.
    var lines: [String: Int] = [:]
    var visited = 0

    mutating func problem(_ node: Node?, _ field: String, _ message: String) {
        problems.append(TrustConfigProblem(file: file, line: node?.line, field: field, message: message))
    }

    mutating func warn(_ node: Node?, _ field: String, _ message: String) {
        warnings.append(TrustConfigProblem(file: file, line: node?.line, field: field, message: message))
    }

    mutating func count(_ node: Node, _ field: String) -> Bool {
        visited += 1
        if visited == TrustConfigLoader.maxNodes { problem(node, field, "file has too many YAML nodes (alias expansion?)") }
        return visited < TrustConfigLoader.maxNodes
    }

    func join(_ field: String, _ key: String) -> String { field.isEmpty ? key : "\(field).\(key)" }

    /// A mapping with only `allowed` keys (and all `required` ones).
    mutating func mapping(_ node: Node, _ field: String, allowed: Set<String>, required: Set<String> = []) -> [String: Node]? {
        guard count(node, field), case .mapping(let mapping) = node else {
            problem(node, field, "expected a mapping")
            return nil
        }
        var result: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string else {
                problem(keyNode, field, "keys must be plain strings")
                continue
            }
            if allowed.contains(key) {
                result[key] = value
                if let line = keyNode.line { lines[TrustConfigLocation.key(file: file, field: join(field, key))] = line }
            } else {
                problem(keyNode, join(field, key), "unknown key (allowed: \(allowed.sorted().joined(separator: ", ")))")
            }
        }
        for key in required.sorted() where result[key] == nil {
            problem(node, join(field, key), "is required")
        }
        return result
    }

    mutating func sequence(_ node: Node, _ field: String) -> [Node] {
        guard count(node, field), case .sequence(let sequence) = node else {
            problem(node, field, "expected a list")
            return []
        }
        return Array(sequence)
    }

    mutating func string(_ node: Node?, _ field: String, nonEmpty: Bool = true) -> String? {
        guard let node else { return nil }
        guard count(node, field), case .scalar(let scalar) = node else {
            problem(node, field, "expected a string")
            return nil
        }
        if nonEmpty, scalar.string.isEmpty {
            problem(node, field, "must not be empty")
            return nil
        }
        return scalar.string
    }

    mutating func strings(_ node: Node?, _ field: String, nonEmpty: Bool) -> [String]? {
        guard let node else { return nil }
        let items = sequence(node, field).enumerated().compactMap { string($1, "\(field)[\($0)]") }
        if nonEmpty, items.isEmpty, node.sequence != nil { problem(node, field, "must list at least one value") }
        return items
    }

    mutating func bool(_ node: Node?, _ field: String) -> Bool? {
        guard let node else { return nil }
        switch node.scalar?.string {
        case "true"?: return true
        case "false"?: return false
        default:
            problem(node, field, "expected true or false")
            return nil
        }
    }

    /// A duration: whole seconds, or a number with unit `s`, `m` or `h` (`90s`, `15m`, `1h`, `1h30m`).
    mutating func duration(_ node: Node?, _ field: String, max: Int, min: Int = 1) -> Int? {
        guard let node, let text = string(node, field) else { return nil }
        var total = 0
        var number = ""
        var sawUnit = false
        var valid = true
        for character in text {
            if character.isASCII, character.isNumber {
                number.append(character)
            } else if let unit = ["s": 1, "m": 60, "h": 3600][String(character)], let value = Int(number), number.count <= 6 {
                total += value * unit
                number = ""
                sawUnit = true
            } else {
                valid = false
            }
        }
        if !number.isEmpty {
            if let value = Int(number), !sawUnit, number.count <= 7 { total = value } else { valid = false }
        }
        guard valid, !text.isEmpty else {
            problem(node, field, "expected a duration such as 60s, 15m or 1h")
            return nil
        }
        guard total >= min, total <= max else {
            problem(node, field, "must be between \(min) and \(max) seconds")
            return nil
        }
        return total
    }

    /// A condition value: a plain `true`/`false` is a JSON boolean, a plain integer a JSON number, a plain
    /// `null` JSON null; everything else (and anything quoted) a string. No YAML 1.1 coercions (`no`, `on`,
    /// dates) ever apply (security-cases.md case 95).
    mutating func jsonValue(_ node: Node, _ field: String) -> JSONValue? {
        guard count(node, field), case .scalar(let scalar) = node else {
            problem(node, field, "expected a single value")
            return nil
        }
        guard scalar.style == .plain || scalar.style == .any else { return .string(scalar.string) }
        switch scalar.string {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "null": return .null
        case let text where text.wholeMatch(of: /-?(0|[1-9][0-9]{0,14})/) != nil: return .number(Double(text)!)
        case let text: return .string(text)
        }
    }

    mutating func claimPath(_ node: Node?, _ field: String) -> ClaimPath? {
        guard let node else { return nil }
        if node.sequence != nil {
            guard let segments = strings(node, field, nonEmpty: true), !segments.isEmpty else { return nil }
            return ClaimPath(segments)
        }
        return string(node, field).map { ClaimPath([$0]) }
    }

    mutating func checkUnique(_ values: [(String, TrustConfigLoader.Location)], what: String, hint: String? = nil) {
        var seen: [String: TrustConfigLoader.Location] = [:]
        for (value, location) in values {
            if let first = seen[value] {
                let message = "duplicate \(what) \(value.debugDescription) (first at \(first.file)\(first.line.map { ":\($0)" } ?? ""))"
                problems.append(
                    TrustConfigProblem(
                        file: location.file,
                        line: location.line,
                        field: location.field,
                        message: hint.map { "\(message): \($0)" } ?? message
                    )
                )
            } else {
                seen[value] = location
            }
        }
    }
}

extension Node {
    var line: Int? { mark?.line }
}

extension YamlError {
    /// The 1-based line of a syntax error, where Yams reports one.
    var line: Int? {
        switch self {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        case .duplicatedKeysInMapping(_, let context): context.mark.line
        default: nil
        }
    }
}
