/// A JSON value as it appears in a token header, a claim set or a JWKS document.
///
/// wif parses untrusted JSON with its own strict parser (``JSONValue/parse(_:maxDepth:)``) because the
/// common decoders silently keep one of two duplicate members, allow unbounded nesting and coerce types:
/// all three are known JWT attack paths (security-cases.md §2.B).
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The string, when this value is a JSON string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The number, when this value is a JSON number.
    public var numberValue: Double? {
        if case .number(let n) = self { return n }
        return nil
    }

    /// The members, when this value is a JSON object.
    public var objectValue: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// The elements, when this value is a JSON array.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The member named `key`, when this value is an object that has it.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }

    /// The value at a claim path: one object member per segment, never split on dots.
    public func value(at path: ClaimPath) -> JSONValue? {
        var current = self
        for segment in path.segments {
            guard let next = current[segment] else { return nil }
            current = next
        }
        return current
    }

    /// A short human-readable rendering for reasons and `explain` output (JSON text, capped in length).
    public var displayText: String {
        let text = String(decoding: serialized(), as: UTF8.self)
        return text.count > 120 ? String(text.prefix(117)) + "..." : text
    }
}

extension JSONValue {
    /// Equality as RFC 7519 §7.3 requires for claims: strings (member names included) compare code point by
    /// code point, never normalized. Swift's `String ==` treats canonically equivalent strings as equal
    /// (`"caf\u{E9}" == "cafe\u{301}"`), which would let a condition or audience match a different value.
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return a.isCodePointEqual(to: b)
        case (.array(let a), .array(let b)): return a.elementsEqual(b) { $0 == $1 }
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            return a.allSatisfy { key, value in
                guard let index = b.index(forKey: key) else { return false }
                return b[index].key.isCodePointEqual(to: key) && b[index].value == value
            }
        default: return false
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

/// The path to a claim: a list of object member names, e.g. `["kubernetes.io", "namespace"]`.
///
/// Paths are never split on `.`: Kubernetes puts its claims under the member `kubernetes.io`, and a
/// top-level member literally named `kubernetes.io.namespace` must not satisfy a condition on the nested
/// one (security-cases.md case 74).
public struct ClaimPath: Sendable, Hashable, CustomStringConvertible {
    public let segments: [String]

    public init(_ segments: [String]) {
        self.segments = segments
    }

    public var description: String {
        segments.count == 1 ? segments[0] : segments.map { "[\($0)]" }.joined()
    }
}
