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
    /// Serve `POST /token/dry-run` (``DryRunEndpoint``); off by default, as it reveals policy outcomes.
    public var enableDryRun = false
    /// Rate limits and the concurrency cap of `/token`.
    public var limits = RequestLimitSettings()
    /// A connection is closed when no request part arrives for this long: idle keep-alive connections, and
    /// requests whose headers or body trickle in (slowloris).
    public var idleTimeout: Duration = .seconds(30)
    /// The whole `/token` body must arrive within this long after its headers, or the request is refused
    /// with 408 (a body trickled byte by byte never looks idle).
    public var requestReadTimeout: Duration = .seconds(10)

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
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        self.issuerURL = issuerURL ?? "\(tls == nil ? "http" : "https")://\(bracketed):\(port)"
        self.maxBodyBytes = maxBodyBytes
        self.tls = tls
    }

    /// Why `url` cannot be wif's issuer identifier, or nil: an `http(s)` URL without query, fragment or trailing
    /// slash, since clients compare `iss` exactly and wif appends its paths to it (RFC 8414 §2).
    public static func issuerURLProblem(_ url: String, loopback: Bool = false) -> String? {
        guard url.hasPrefix("https://") || (loopback && url.hasPrefix("http://")) else {
            return "must start with https:// (http:// only while listening on loopback)"
        }
        guard !url.hasSuffix("/") else { return "must not end with '/': clients compare iss exactly and wif appends its paths" }
        guard !url.contains("?"), !url.contains("#") else { return "must not have a query or fragment" }
        guard url.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else { return "must be printable ASCII" }
        return nil
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
