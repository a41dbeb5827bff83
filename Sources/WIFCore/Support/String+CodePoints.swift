extension String {
    /// Equality of Unicode code points. Swift's `==` treats canonically equivalent strings (NFC and NFD) as
    /// equal; issuer identifiers must match exactly (RFC 7519 §7.3, security-cases.md case 57).
    public func isCodePointEqual(to other: String) -> Bool {
        unicodeScalars.elementsEqual(other.unicodeScalars)
    }
}
