import ArgumentParser
import AsyncHTTPClient
import Hummingbird
import Logging
import Prometheus
import WIFCore
import WIFServer
import WIFSources

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the token exchange endpoint.",
        discussion: """
            With no flags: listens on 127.0.0.1:8080, trusts ./trust-config, and signs with a key it generates \
            on first start in ./.wif/keys (mode 0600). In production, mount the signing key and pass --keys-dir: \
            a missing key is then an error, never a freshly generated one.
            """
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Address to listen on (env WIF_HOST; default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on (env WIF_PORT; default 8080).")
    var port: Int?

    @Option(
        name: .customLong("issuer-url"),
        help: "wif's public issuer URL, the iss of issued tokens (env WIF_ISSUER_URL; default http://HOST:PORT, https with TLS)."
    )
    var issuerURL: String?

    @Option(
        name: .customLong("keys-dir"),
        help: "Folder of signing keys (*.pem); must exist when given (env WIF_KEYS_DIR; default STATE_DIR/keys, generated)."
    )
    var keysDir: String?

    @Option(
        name: .customLong("tls-certificate"),
        help: "PEM certificate chain to serve https with, reloaded when it changes (env WIF_TLS_CERTIFICATE; needs --tls-key)."
    )
    var tlsCertificate: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-certificate (env WIF_TLS_KEY).")
    var tlsKey: String?

    @Option(
        name: .customLong("audit-log"),
        help: "Append audit records (JSON lines) to this file, or - for standard output (env WIF_AUDIT_LOG; default -)."
    )
    var auditLog: String?

    @Flag(
        name: .customLong("enable-dry-run"),
        help:
            "Serve POST /token/dry-run for `wif whoami`: what /token would decide and why, nothing issued. It reveals policy outcomes to holders of valid tokens (env WIF_ENABLE_DRY_RUN=1)."
    )
    var enableDryRun = false

    @Option(
        name: .customLong("rate-limit-client"),
        help: "Token requests per client address, RATE/BURST per second or off (env WIF_RATE_LIMIT_CLIENT; default 200/2000)."
    )
    var rateLimitClient: String?

    @Option(
        name: .customLong("rate-limit-subject"),
        help: "Token requests per verified issuer and sub, RATE/BURST per second or off (env WIF_RATE_LIMIT_SUBJECT; default 50/500)."
    )
    var rateLimitSubject: String?

    @Option(
        name: .customLong("max-concurrent-requests"),
        help: "Token requests in progress at once before an immediate 503; 0 for no cap (env WIF_MAX_CONCURRENT_REQUESTS; default 512)."
    )
    var maxConcurrentRequests: Int?

    @Option(
        name: .customLong("idle-timeout"),
        help: "Seconds before a connection that sends nothing, or trickles its headers, is closed (env WIF_IDLE_TIMEOUT; default 30)."
    )
    var idleTimeout: Int?

    @Option(
        name: .customLong("read-timeout"),
        help: "Seconds a token request body may take to arrive after its headers, else 408 (env WIF_READ_TIMEOUT; default 10)."
    )
    var readTimeout: Int?

    /// Reloads the trust-config folder on change and SIGHUP, with the same checks as at start.
    func reloader(runtime: ExchangeRuntime, settings: ServerSettings, logger: Logger, registry: PrometheusCollectorRegistry) -> TrustConfigReloader {
        let folder = TrustConfigDirectory(path: common.trustConfigPath)
        let metrics = PrometheusMetricsFactory(registry: registry)
        return TrustConfigReloader(
            live: runtime.live,
            logger: logger,
            metrics: metrics,
            stamp: { folder.stamp() },
            load: {
                let config = try folder.load()
                try settings.checkDevelopmentIssuers(in: config)
                return config
            }
        )
    }

    /// The audit log: standard output, or a file opened now so that a bad path stops `serve` at start.
    func audit() throws -> AuditLog {
        switch auditLog ?? environment("WIF_AUDIT_LOG") {
        case nil, "-": .standardOutput
        case let path?: try AuditLog.file(path)
        }
    }

    func run() async throws {
        let logger = Logger(label: "wif")
        let portValue =
            try port ?? environment("WIF_PORT").map { text in
                guard let value = Int(text) else { throw CommandFailure("WIF_PORT is not a number") }
                return value
            } ?? ServerSettings.defaultPort
        let tls: TLSFiles?
        switch (tlsCertificate ?? environment("WIF_TLS_CERTIFICATE"), tlsKey ?? environment("WIF_TLS_KEY")) {
        case (nil, nil): tls = nil
        case (let certificate?, let key?): tls = TLSFiles(certificateChain: certificate, privateKey: key)
        default: throw CommandFailure("--tls-certificate and --tls-key go together")
        }
        var settings = ServerSettings(
            host: host ?? environment("WIF_HOST") ?? ServerSettings.defaultHost,
            port: portValue,
            issuerURL: issuerURL ?? environment("WIF_ISSUER_URL"),
            tls: tls
        )
        settings.enableDryRun = enableDryRun || environment("WIF_ENABLE_DRY_RUN") == "1"
        try applyLimits(to: &settings)
        if let explicit = issuerURL ?? environment("WIF_ISSUER_URL"),
            let problem = ServerSettings.issuerURLProblem(explicit, loopback: settings.isLoopback)
        {
            throw CommandFailure("--issuer-url \(explicit.debugDescription): \(problem)")
        }
        guard settings.isLoopback || issuerURL != nil || environment("WIF_ISSUER_URL") != nil else {
            throw CommandFailure(
                "listening on \(settings.host) needs --issuer-url (or WIF_ISSUER_URL): the public https URL clients and APIs know wif by"
            )
        }
        let explicitKeys = keysDir ?? environment("WIF_KEYS_DIR")
        // One registry for every metric wif emits, served at /metrics.
        let registry = PrometheusCollectorRegistry()
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: IssuerKeyStore.clientConfiguration)
        do {
            let runtime = try ExchangeRuntime.load(
                common: common,
                settings: settings,
                keysFolder: explicitKeys,
                httpClient: httpClient,
                clock: SystemClock(),
                logger: logger,
                metrics: PrometheusMetricsFactory(registry: registry)
            )
            for warning in runtime.warnings {
                logger.warning("trust-config warning (wif validate explains)", metadata: ["warning": "\(warning)"])
            }
            logger.info(
                "wif serving",
                metadata: [
                    "address": "\(settings.host):\(settings.port)", "issuer": "\(settings.issuerURL)", "trust_config": "\(common.trustConfigPath)",
                    "issuers": "\(runtime.exchanger.config.issuers.count)", "policies": "\(runtime.exchanger.config.policies.count)",
                    "signing_kid": "\(runtime.exchanger.minter.signingKey.keyID)", "dry_run": "\(settings.enableDryRun)",
                ]
            )
            let app = try buildApplication(
                ServerDependencies(
                    settings: settings,
                    exchanger: runtime.live,
                    publishedKeys: runtime.publishedKeys,
                    clock: SystemClock(),
                    audit: try audit(),
                    logger: logger,
                    services: [runtime.refresher, reloader(runtime: runtime, settings: settings, logger: logger, registry: registry)],
                    metrics: registry
                )
            )
            try await app.runService()
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
    }
}
