public import WIFCore

/// Builds `application/x-www-form-urlencoded` bodies for tests and `wif demo`, with ``FormBody``'s encoder.
public enum FormEncoding {
    /// Percent-encodes one value; RFC 3986 unreserved characters stay as they are.
    public static func encode(_ value: String) -> String {
        FormBody.percentEncode(value)
    }

    /// A whole body, fields in the order given (names may repeat).
    public static func body(_ fields: [(String, String)]) -> String {
        FormBody(pairs: fields.map { (name: $0.0, value: $0.1) }).encoded
    }
}
