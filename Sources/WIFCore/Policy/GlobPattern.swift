/// A glob over a claim string: `*` matches any run of characters and `?` exactly one, neither crossing the
/// separators `:` and `/`, so `repo:acme/*:ref:refs/heads/main` cannot match another organisation's
/// repository (security-cases.md cases 69–71). `\` escapes the next character. The whole string must match.
public struct GlobPattern: Sendable, Hashable {
    public let pattern: String
    private let elements: [Element]

    private enum Element: Sendable, Hashable {
        case literal(Unicode.Scalar)
        case anyOne
        case anyRun
    }

    public init(_ pattern: String) {
        self.pattern = pattern
        var elements: [Element] = []
        var escaping = false
        for scalar in pattern.unicodeScalars {
            if escaping {
                elements.append(.literal(scalar))
                escaping = false
            } else if scalar == "\\" {
                escaping = true
            } else if scalar == "*" {
                if elements.last != .anyRun { elements.append(.anyRun) }
            } else if scalar == "?" {
                elements.append(.anyOne)
            } else {
                elements.append(.literal(scalar))
            }
        }
        if escaping { elements.append(.literal("\\")) }
        self.elements = elements
    }

    /// Whether the pattern has no literal character at all (it would match nearly anything).
    public var isWildcardOnly: Bool {
        !elements.contains { if case .literal = $0 { true } else { false } }
    }

    /// The literal text the pattern starts with, up to its first wildcard (all of it when it has none).
    var literalPrefix: String {
        var prefix = String.UnicodeScalarView()
        for element in elements {
            guard case .literal(let scalar) = element else { break }
            prefix.append(scalar)
        }
        return String(prefix)
    }

    /// Whether the pattern has no wildcard at all: it matches exactly one string.
    var isLiteral: Bool {
        elements.allSatisfy { if case .literal = $0 { true } else { false } }
    }

    /// Whether `text` matches the whole pattern. Runs in O(pattern × text) time, no backtracking.
    public func matches(_ text: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        // reachable[j]: the pattern prefix consumed so far can end at text position j.
        var reachable = [Bool](repeating: false, count: scalars.count + 1)
        reachable[0] = true
        for element in elements {
            var next = [Bool](repeating: false, count: scalars.count + 1)
            switch element {
            case .anyRun:
                var open = false
                for j in 0...scalars.count {
                    if reachable[j] { open = true }
                    if open { next[j] = true }
                    if j < scalars.count, Self.isSeparator(scalars[j]) { open = false }
                }
            case .anyOne:
                for j in 0..<scalars.count where reachable[j] && !Self.isSeparator(scalars[j]) { next[j + 1] = true }
            case .literal(let c):
                for j in 0..<scalars.count where reachable[j] && scalars[j] == c { next[j + 1] = true }
            }
            reachable = next
        }
        return reachable[scalars.count]
    }

    private static func isSeparator(_ scalar: Unicode.Scalar) -> Bool {
        scalar == ":" || scalar == "/"
    }
}
