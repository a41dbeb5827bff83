extension JSONValue {
    /// Indented JSON text for people (and for `--json` output): members sorted by name, two spaces per
    /// level, and lists of plain values kept on one line when they are short. Still valid JSON.
    public func prettyPrinted(indent: String = "") -> String {
        switch self {
        case .array(let elements):
            if elements.isEmpty { return "[]" }
            let isFlat = elements.allSatisfy { $0.arrayValue == nil && $0.objectValue == nil }
            let oneLine = String(decoding: serialized(), as: UTF8.self)
            if isFlat, oneLine.count <= 72 { return oneLine.replacingCommas }
            let inner = indent + "  "
            return "[\n" + elements.map { inner + $0.prettyPrinted(indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
        case .object(let members):
            if members.isEmpty { return "{}" }
            let inner = indent + "  "
            let lines = members.keys.sorted().map { key in
                inner + String(decoding: JSONValue.string(key).serialized(), as: UTF8.self) + ": " + members[key]!.prettyPrinted(indent: inner)
            }
            return "{\n" + lines.joined(separator: ",\n") + "\n\(indent)}"
        default:
            return String(decoding: serialized(), as: UTF8.self)
        }
    }
}

extension String {
    /// A one-line JSON list with a space after each separating comma (`["a", "b"]`). Only called on the
    /// serialization of a list of plain values, where a comma outside a string separates elements.
    fileprivate var replacingCommas: String {
        var out = ""
        var inString = false
        var escaped = false
        for character in self {
            out.append(character)
            if inString {
                if escaped {
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    inString = false
                }
            } else if character == "\"" {
                inString = true
            } else if character == "," {
                out.append(" ")
            }
        }
        return out
    }
}
