public import WIFCore

/// How `wif serve` listens and names itself.
public struct ServerSettings: Sendable {
    public var host: String
    public var port: Int
    /// wif's own issuer identifier: `iss` of issued tokens and the base of its discovery URLs.
    public var issuerURL: String
    /// Largest `/token` body accepted (security-cases.md case 14).
    public var maxBodyBytes: Int
    /// Certificate and key to listen with TLS; nil serves plain HTTP.
    public var tls: TLSFiles?

    public static let defaultHost = "127.0.0.1"
    public static let defaultPort = 8080

    public init(
        host: String = defaultHost,
        port: Int = defaultPort,
        issuerURL: String? = nil,
        maxBodyBytes: Int = 64 * 1024,
        tls: TLSFiles? = nil
    ) {
        self.host = host
        self.port = port
        self.issuerURL = issuerURL ?? "\(tls == nil ? "http" : "https")://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        self.maxBodyBytes = maxBodyBytes
        self.tls = tls
    }

    /// Whether the listening address is loopback only (required for the development issuer).
    public var isLoopback: Bool {
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}

extension ServerSettings {
    /// Throws unless every issuer using the development key source is served on a loopback address, so a
    /// trust-config that trusts wif's local development key can never open a production deployment.
    public func checkDevelopmentIssuers(in config: TrustConfig) throws {
        let names = config.issuers.filter { $0.keySource == .development }.map(\.name)
        guard !names.isEmpty, !isLoopback else { return }
        throw DevelopmentIssuerRefused(issuers: names, host: host)
    }
}

/// `wif serve` was asked to trust the development issuer on a non-loopback address.
public struct DevelopmentIssuerRefused: Error, CustomStringConvertible {
    public let issuers: [String]
    public let host: String

    public var description: String {
        "trust-config issuer \(issuers.joined(separator: ", ")) uses the development key source, which wif allows only when "
            + "listening on a loopback address (not \(host)); remove it from a production trust-config"
    }
}
