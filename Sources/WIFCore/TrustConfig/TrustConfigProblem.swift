/// One problem found while loading a trust-config: where it is and what is wrong.
public struct TrustConfigProblem: Sendable, Hashable, CustomStringConvertible {
    public let file: String
    /// The 1-based line, where the YAML parser gives one.
    public let line: Int?
    /// The field, e.g. `policies[2].grant.scopes`.
    public let field: String
    public let message: String

    public init(file: String, line: Int?, field: String, message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        return field.isEmpty ? "\(location): \(message)" : "\(location): \(field): \(message)"
    }
}

/// A trust-config that did not load, with every problem found (not just the first).
public struct TrustConfigError: Error, Sendable, CustomStringConvertible {
    public let problems: [TrustConfigProblem]

    public init(problems: [TrustConfigProblem]) {
        self.problems = problems
    }

    public var description: String {
        "trust-config has \(problems.count) problem\(problems.count == 1 ? "" : "s"):\n" + problems.map { "  \($0)" }.joined(separator: "\n")
    }
}
