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
        if let problem = Self.backtrackingHazard(in: pattern) { throw AnchoredRegexError(message: problem) }
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

/// Why a pattern is refused although it compiles.
public struct AnchoredRegexError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

extension AnchoredRegex {
    /// Refuses the shapes that make a backtracking engine take exponential time (security-cases.md case 79):
    /// a repeated group that itself contains a repetition or an alternation, such as `(a+)+`, `(\w*x)*` or
    /// `(a|ab)*`. Swift's `Regex` backtracks, so such a pattern lets whoever controls a claim value stall a
    /// thread; the same conditions can always be written without nesting, or as a glob.
    static func backtrackingHazard(in pattern: String) -> String? {
        let scalars = Array(pattern.unicodeScalars)
        // For each open group: does it contain a repetition or an alternation?
        var groups: [Bool] = []
        var index = 0
        func isRepetition(at position: Int) -> Bool {
            guard position < scalars.count else { return false }
            switch scalars[position] {
            case "*", "+": return true
            case "{":
                // {n,} and {n,m} repeat without a small fixed bound; {n} is a fixed count.
                var end = position
                while end < scalars.count, scalars[end] != "}" { end += 1 }
                return end < scalars.count && scalars[position...end].contains(",")
            default: return false
            }
        }
        while index < scalars.count {
            let scalar = scalars[index]
            switch scalar {
            case "\\":
                index += 2
                if isRepetition(at: index), !groups.isEmpty { groups[groups.count - 1] = true }
                continue
            case "[":
                index += 1
                if index < scalars.count, scalars[index] == "^" { index += 1 }
                if index < scalars.count, scalars[index] == "]" { index += 1 }
                while index < scalars.count, scalars[index] != "]" {
                    index += scalars[index] == "\\" ? 2 : 1
                }
                index += 1
                if isRepetition(at: index), !groups.isEmpty { groups[groups.count - 1] = true }
                continue
            case "(":
                groups.append(false)
            case ")":
                let risky = groups.popLast() ?? false
                if risky, isRepetition(at: index + 1) {
                    return
                        "nested repetition (a repeated group containing a repetition or alternation) can take exponential time; rewrite it without nesting"
                }
                if risky || isRepetition(at: index + 1), !groups.isEmpty { groups[groups.count - 1] = true }
            case "|":
                if !groups.isEmpty { groups[groups.count - 1] = true }
            default:
                if isRepetition(at: index + 1), !groups.isEmpty { groups[groups.count - 1] = true }
            }
            index += 1
        }
        return nil
    }
}
