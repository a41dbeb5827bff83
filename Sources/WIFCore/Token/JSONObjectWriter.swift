/// Writes one JSON object member by member, for the texts written on every request (the audit record, the
/// token response): no `JSONValue` tree, no dictionary, no sort.
///
/// Members must come sorted by name, the order ``JSONValue/serialized()`` writes, so that both give the same
/// text for the same members; debug builds check it. A nil value leaves its member out.
public struct JSONObjectWriter {
    private var bytes: [UInt8]
    private var isEmpty = true
    #if DEBUG
    private var lastName: String?
    #endif

    /// An empty object, with room for `capacity` bytes of text before the buffer grows.
    public init(capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
        bytes.append(UInt8(ascii: "{"))
    }

    /// A string member, escaped as ``JSONValue/serialized()`` escapes it.
    public mutating func member(_ name: String, _ value: String?) {
        guard let value else { return }
        start(name)
        JSONValue.writeString(value, into: &bytes)
    }

    /// A number member, written as ``JSONValue/serialized()`` writes numbers (integers without a fraction).
    public mutating func member(_ name: String, _ value: Double?) {
        guard let value else { return }
        start(name)
        bytes.append(contentsOf: JSONValue.format(value).utf8)
    }

    /// A member of any JSON value (nested objects sorted as ``JSONValue/serialized()`` sorts them).
    public mutating func member(_ name: String, _ value: JSONValue?) {
        guard let value else { return }
        start(name)
        value.write(into: &bytes)
    }

    /// An array of strings.
    public mutating func member(_ name: String, strings: [String]) {
        start(name)
        bytes.append(UInt8(ascii: "["))
        for (index, string) in strings.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONValue.writeString(string, into: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// The object's text.
    public consuming func finish() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    private mutating func start(_ name: String) {
        #if DEBUG
        assert(lastName.map { $0 < name } ?? true, "JSON members out of order: \(lastName ?? "") before \(name)")
        lastName = name
        #endif
        if !isEmpty { bytes.append(UInt8(ascii: ",")) }
        isEmpty = false
        JSONValue.writeString(name, into: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }
}
