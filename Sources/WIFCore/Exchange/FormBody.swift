/// An `application/x-www-form-urlencoded` body (HTML URL-encoding, as RFC 6749 Appendix B uses it).
///
/// wif's own parser, because the token endpoint needs what general decoders get wrong: repeated
/// `audience`/`resource` keys kept in order, `+` decoded to a space, and strict refusal of broken
/// percent-encoding, NUL and invalid UTF-8 (security-cases.md case 15).
public struct FormBody: Sendable, Hashable {
    /// The name/value pairs in body order.
    public let pairs: [(name: String, value: String)]

    public static func == (lhs: FormBody, rhs: FormBody) -> Bool {
        lhs.pairs.elementsEqual(rhs.pairs, by: { $0.name == $1.name && $0.value == $1.value })
    }
    public func hash(into hasher: inout Hasher) {
        for pair in pairs {
            hasher.combine(pair.name)
            hasher.combine(pair.value)
        }
    }

    public init(pairs: [(name: String, value: String)]) {
        self.pairs = pairs
    }

    /// Parses a body; throws ``ExchangeError/Code/malformedForm`` for undecodable input.
    public init(parsing body: some Collection<UInt8>) throws(ExchangeError) {
        try self.init(bytes: Array(body))
    }

    /// Parses a body held in an array: fields split on `&` (empty ones skipped), each at its first `=`.
    /// One pass over contiguous bytes; the generic collection path cost more than the whole exchange.
    public init(bytes: [UInt8]) throws(ExchangeError) {
        var pairs: [(name: String, value: String)] = []
        var fieldStart = 0
        while fieldStart < bytes.count {
            var fieldEnd = fieldStart
            while fieldEnd < bytes.count, bytes[fieldEnd] != UInt8(ascii: "&") { fieldEnd += 1 }
            if fieldEnd > fieldStart {
                var equals = fieldStart
                while equals < fieldEnd, bytes[equals] != UInt8(ascii: "=") { equals += 1 }
                let name = try Self.decode(bytes, fieldStart..<equals)
                let value = equals < fieldEnd ? try Self.decode(bytes, (equals + 1)..<fieldEnd) : ""
                pairs.append((name, value))
            }
            fieldStart = fieldEnd + 1
        }
        self.pairs = pairs
    }

    /// The values of a parameter that may repeat (`audience`, `resource`), empty values dropped.
    public func values(_ name: String) -> [String] {
        pairs.filter { $0.name == name && !$0.value.isEmpty }.map(\.value)
    }

    /// The value of a single-valued parameter: nil when absent or empty (RFC 6749 §3.1 treats an empty
    /// value as omitted); ``ExchangeError/Code/repeatedParameter`` when it occurs more than once.
    public func value(_ name: String) throws(ExchangeError) -> String? {
        var found: String?
        var count = 0
        for pair in pairs where pair.name == name {
            count += 1
            found = pair.value
        }
        guard count <= 1 else { throw .repeated(name) }
        return found?.isEmpty == false ? found : nil
    }

    /// The value of a required single-valued parameter.
    public func required(_ name: String) throws(ExchangeError) -> String {
        guard let value = try value(name) else { throw .missing(name) }
        return value
    }

    /// The body as sent: `name=value` pairs in order, joined by `&`, each half percent-encoded.
    public var encoded: String {
        pairs.map { Self.percentEncode($0.name) + "=" + Self.percentEncode($0.value) }.joined(separator: "&")
    }

    /// Percent-encodes one name or value (also fit for a URL query); RFC 3986 unreserved characters stay
    /// as they are.
    public static func percentEncode(_ value: String) -> String {
        let hex = Array("0123456789ABCDEF".unicodeScalars)
        var out = String.UnicodeScalarView()
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(Unicode.Scalar(byte))
            default:
                out.append("%")
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            }
        }
        return String(out)
    }

    private static func decode(_ encoded: [UInt8], _ range: Range<Int>) throws(ExchangeError) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(range.count)
        var index = range.lowerBound
        while index < range.upperBound {
            let byte = encoded[index]
            index += 1
            switch byte {
            case UInt8(ascii: "+"):
                bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard index + 1 < range.upperBound, let high = hexValue(encoded[index]), let low = hexValue(encoded[index + 1]) else {
                    throw ExchangeError(.malformedForm, "request body has invalid percent-encoding")
                }
                bytes.append(high << 4 | low)
                index += 2
            default:
                bytes.append(byte)
            }
        }
        guard !bytes.contains(0), let text = String(validating: bytes, as: UTF8.self) else {
            throw ExchangeError(.malformedForm, "request body is not valid UTF-8 text")
        }
        return text
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
