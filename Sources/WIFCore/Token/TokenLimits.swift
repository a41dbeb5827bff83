/// Bounds applied to untrusted tokens before any decoding or crypto (security-cases.md cases 19–25, 38).
public enum TokenLimits {
    /// Largest accepted compact token, in bytes. Real Kubernetes, GitHub and cloud tokens are 1–4 KiB.
    public static let maxTokenLength = 16 * 1024
    /// Longest accepted `kid`.
    public static let maxKeyIDLength = 256
    /// Longest accepted `sub`.
    public static let maxSubjectLength = 1024
}
