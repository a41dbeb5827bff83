/// Bounds applied to untrusted tokens before any decoding or crypto (security-cases.md cases 19–25, 38).
public enum TokenLimits {
    /// Largest accepted compact token, in bytes. Real Kubernetes, GitHub and cloud tokens are 1–4 KiB.
    public static let maxTokenLength = 16 * 1024
    /// Longest accepted `kid`.
    public static let maxKeyIDLength = 256
    /// Longest accepted `sub`.
    public static let maxSubjectLength = 1024

    /// A subject wif accepts and issues: non-empty, at most ``maxSubjectLength`` bytes, no control characters.
    public static func isUsableSubject(_ subject: String) -> Bool {
        !subject.isEmpty && subject.utf8.count <= maxSubjectLength && !subject.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }
}
