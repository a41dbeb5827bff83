import Crypto

extension TrustConfig {
    /// The version of a trust-config: the first 16 hex digits of SHA-256 over each file's base name and
    /// contents, in load order. The same files give the same version on every replica.
    public static func version(of files: [TrustConfigLoader.File]) -> String {
        var hash = SHA256()
        for file in files {
            let name = file.name.split(separator: "/").last.map(String.init) ?? file.name
            for part in [name, file.contents] {
                hash.update(data: Array(String(part.utf8.count).utf8) + [0] + Array(part.utf8))
            }
        }
        return hash.finalize().prefix(8).map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
    }
}
