/// The one rule for URLs wif fetches issuer keys from: `https` only, or plain `http` to a loopback host
/// when the issuer allows it explicitly (tests, demos). The authority may not carry user information, so
/// `http://localhost:1@evil.example` is not a loopback URL.
public enum KeySourceURL {
    /// Why `url` may not be fetched, or nil when it may.
    public static func problem(_ url: String, insecureLoopback: Bool) -> String? {
        let scheme: String
        if url.hasPrefix("https://") {
            scheme = "https"
        } else if url.hasPrefix("http://") {
            scheme = "http"
        } else {
            return "must be an https URL"
        }
        let rest = url.dropFirst(scheme.count + 3)
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.isEmpty, !authority.contains("@"), !url.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value >= 0x7F }) else {
            return "must be a plain https URL (no user information, spaces or control characters)"
        }
        guard scheme == "http" else { return nil }
        let host: Substring
        if authority.hasPrefix("[") {
            host = authority.prefix { $0 != "]" } + "]"
        } else {
            host = authority.prefix { $0 != ":" }
        }
        let loopback = host == "127.0.0.1" || host == "localhost" || host == "[::1]"
        if !loopback { return "must be an https URL (plain http only for loopback test issuers)" }
        return insecureLoopback ? nil : "plain http needs allow_insecure_loopback: true"
    }
}
