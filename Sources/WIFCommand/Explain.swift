import ArgumentParser
import AsyncHTTPClient
import FoundationEssentials
import Logging
import WIFCore
import WIFSources

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct Explain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what wif would decide for one token, and why: every check and every policy condition.",
        discussion: """
            Decodes the token, names the issuer its iss selects (or lists the configured ones), checks the \
            signature with keys fetched as `wif serve` fetches them (or from --offline), lists every claim check, \
            evaluates every policy of that issuer condition by condition, and prints the server's decision and \
            the claims of the token it would issue (not signed). A token that does not verify still gets its \
            policies evaluated, marked as hypothetical. Exits 0 when the exchange would be granted, 1 when it \
            would be denied, 2 when the token or trust-config cannot be read. See docs/debugging.md.
            """
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "The subject token: a file holding it, or - to read standard input.")
    var token: String

    @Option(help: "A requested audience (repeatable).")
    var audience: [String] = []

    @Option(help: "A requested resource (repeatable).")
    var resource: [String] = []

    @Option(help: "The requested scope: space-separated, or repeat the option.")
    var scope: [String] = []

    @Option(name: .customLong("client-id"), help: "The client_id the client sends, if any.")
    var clientID: String?

    @Option(
        name: .customLong("grant-type"),
        help: "token-exchange (default), jwt-bearer or client-credentials: decides the OAuth error a refusal becomes."
    )
    var grantType: String?

    @Option(help: "Evaluate at this instant: RFC 3339 (2026-01-15T08:00:00Z) or unix seconds (default: now).")
    var at: String?

    @Option(help: "Verify with the keys in this JWKS file instead of fetching the issuer's keys.")
    var offline: String?

    @Option(
        name: .customLong("issuer-url"),
        help: "wif's issuer URL, the iss of the issued token (env WIF_ISSUER_URL; default http://127.0.0.1:8080)."
    )
    var issuerURL: String?

    @Flag(help: "Print the report as one JSON object, for tools.")
    var json = false

    func run() async throws {
        let now: Double
        if let at {
            guard let instant = Instant.parse(at) else { throw ValidationError("--at must be RFC 3339 (2026-01-15T08:00:00Z) or unix seconds") }
            now = instant
        } else {
            now = SystemClock().now()
        }
        let grant: String?
        switch grantType {
        case nil, "token-exchange": grant = nil
        case "jwt-bearer": grant = GrantType.jwtBearer.rawValue
        case "client-credentials": grant = GrantType.clientCredentials.rawValue
        case let other?: grant = other
        }
        let subjectToken = try Self.readToken(token)
        let folder = TrustConfigDirectory(path: common.trustConfigPath)
        let config: TrustConfig
        do {
            config = try folder.load()
        } catch {
            throw Self.cannotRun("\(error)")
        }
        let parameters = TokenRequestParameters(
            grantType: grant,
            audiences: audience,
            resources: resource,
            scope: scope.isEmpty ? nil : scope.joined(separator: " "),
            clientID: clientID
        )
        let issuerURL = issuerURL ?? environment("WIF_ISSUER_URL") ?? "http://127.0.0.1:8080"

        let report: ExplainReport
        if let offline {
            guard let bytes = FileManager.default.contents(atPath: offline) else { throw Self.cannotRun("\(offline): cannot read the JWKS file") }
            let keys: JWKSet
            do {
                keys = try JWKSet.parse(Array(bytes))
            } catch {
                throw Self.cannotRun("\(offline): \(error)")
            }
            let explainer = TokenExplainer(
                config: config,
                keySource: InMemoryKeySource(fallback: keys),
                keysFrom: "the offline JWKS file \(offline)",
                issuerURL: issuerURL
            )
            report = await explainer.explain(token: subjectToken, request: parameters, now: now)
        } else {
            var logger = Logger(label: "wif-explain")
            logger.logLevel = .warning
            let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: IssuerKeyStore.clientConfiguration)
            let keyStore = IssuerKeyStore(
                httpClient: httpClient,
                trustConfigFolder: folder,
                development: try Self.developmentIssuer(config: config, state: common.stateDirectory),
                clock: SystemClock(),
                logger: logger
            )
            let explainer = TokenExplainer(
                config: config,
                keySource: keyStore,
                keysFrom: "the issuer's key source, fetched as wif serve does",
                issuerURL: issuerURL
            )
            report = await explainer.explain(token: subjectToken, request: parameters, now: now)
            try await httpClient.shutdown()
        }
        print(json ? report.json.prettyPrinted() : report.text())
        if !report.decision.isGranted { throw ExitCode.failure }
    }

    /// The development issuer's key, when the config trusts it and the state folder has one (never created
    /// here: without a key, no token can be a development token).
    static func developmentIssuer(config: TrustConfig, state: StateDirectory) throws -> DevelopmentIssuer? {
        guard config.issuers.contains(where: { $0.keySource == .development }) else { return nil }
        guard FileManager.default.fileExists(atPath: state.file("dev-issuer/key.pem")) else {
            let line = Array(
                "wif explain: note: no development key in \(state.file("dev-issuer/key.pem")); pass the --state-dir of the wif that signed the token\n"
                    .utf8
            )
            _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            return nil
        }
        return try DevelopmentIssuer.load(state: state)
    }

    /// The token from a file, or from standard input for `-` (at most 1 MiB; the pipeline refuses anything
    /// over 16 KiB itself).
    static func readToken(_ source: String) throws -> String {
        let limit = 1024 * 1024
        var bytes: [UInt8] = []
        if source == "-" {
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while bytes.count <= limit {
                let count = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                guard count > 0 else { break }
                bytes += buffer[0..<count]
            }
        } else {
            guard let data = FileManager.default.contents(atPath: source) else { throw cannotRun("\(source): cannot read the token file") }
            bytes = Array(data)
        }
        guard bytes.count <= limit, let text = String(validating: bytes, as: UTF8.self) else {
            throw cannotRun("\(source == "-" ? "standard input" : source): not a token (larger than 1 MiB or not UTF-8)")
        }
        guard !text.allSatisfy(\.isWhitespace) else { throw cannotRun("\(source == "-" ? "standard input" : source) is empty") }
        return text
    }

    /// Prints `message` to standard error; the command exits 2 (nothing was explained).
    static func cannotRun(_ message: String) -> ExitCode {
        let line = Array("wif explain: \(message)\n".utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        return ExitCode(2)
    }
}
