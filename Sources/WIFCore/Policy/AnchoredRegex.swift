/// A regular expression that must match a whole claim value: compiled once as `^(?:pattern)$` and applied
/// with a whole-string match, so alternation cannot leak a prefix (security-cases.md case 68).
public struct AnchoredRegex: @unchecked Sendable, Hashable {
    // Regex<AnyRegexOutput> is immutable after compilation; it is shared read-only across tasks.
    public let pattern: String
    private let regex: Regex<AnyRegexOutput>

    /// Compiles `pattern`; throws with the compiler's message when it is not a valid expression.
    public init(_ pattern: String) throws {
        self.pattern = pattern
        // Compiled alone first: a pattern such as `a)|(b` would otherwise close the anchoring group early.
        _ = try Regex(pattern)
        // Unicode-scalar semantics: the default grapheme-cluster semantics compare canonically equivalent
        // characters as equal, and claims must match code point by code point (RFC 7519 §7.3).
        self.regex = try Regex("^(?:" + pattern + ")$").matchingSemantics(.unicodeScalar)
    }

    /// Longest claim value a regex is run on; longer values never match. Swift's `Regex` backtracks, so
    /// the input is bounded (security-cases.md case 79).
    public static let maxInputLength = 1024

    public func matches(_ text: String) -> Bool {
        guard text.utf8.count <= Self.maxInputLength else { return false }
        return (try? regex.wholeMatch(in: text)) != nil
    }

    public static func == (lhs: AnchoredRegex, rhs: AnchoredRegex) -> Bool { lhs.pattern == rhs.pattern }
    public func hash(into hasher: inout Hasher) { hasher.combine(pattern) }
}
