import AsyncHTTPClient
import CoreMetrics
import Logging
import WIFCore
import WIFServer
import WIFSources

/// The parts `serve` and `demo` assemble the same way: trust-config, issuer keys, signing keys.
struct ExchangeRuntime {
    /// The pipeline; `serve`'s reloader swaps its trust-config.
    let live: LiveExchanger
    let publishedKeys: [SigningKey]
    /// What `wif validate` would warn about in the trust-config loaded at start.
    let warnings: [TrustConfigProblem]
    /// Keeps the issuers' keys fetched and fresh beside the server.
    let refresher: IssuerKeyRefresher

    /// Loads the trust-config folder and signing keys. Refuses a config that trusts the development issuer
    /// unless `settings` listens on loopback.
    static func load(
        common: CommonOptions,
        settings: ServerSettings,
        keysFolder: String?,
        httpClient: HTTPClient,
        clock: any WallClock,
        logger: Logger,
        metrics: (any MetricsFactory)? = nil,
        adjust: (TrustConfig) -> TrustConfig = { $0 }
    ) throws -> ExchangeRuntime {
        let folder = TrustConfigDirectory(path: common.trustConfigPath)
        let (loaded, warnings) = try folder.loadWithWarnings()
        let config = adjust(loaded)
        let development = try developmentIssuer(for: config, settings: settings, state: common.stateDirectory)
        let keyStore = SigningKeyStore(folder: keysFolder ?? common.stateDirectory.file("keys"))
        let keys = try keyStore.load(generateIfMissing: keysFolder == nil)
        let issuerKeys = IssuerKeyStore(
            httpClient: httpClient,
            trustConfigFolder: folder,
            development: development,
            clock: clock,
            logger: logger,
            metrics: metrics
        )
        let live = LiveExchanger(
            TokenExchanger(config: config, keySource: issuerKeys, minter: AccessTokenMinter(issuerURL: settings.issuerURL, signingKey: keys.active))
        )
        return ExchangeRuntime(
            live: live,
            publishedKeys: keys.published,
            warnings: warnings,
            refresher: IssuerKeyRefresher(store: issuerKeys) { live.current.config.issuers }
        )
    }

    var exchanger: TokenExchanger { live.current }

    static func developmentIssuer(for config: TrustConfig, settings: ServerSettings, state: StateDirectory) throws -> DevelopmentIssuer? {
        try settings.checkDevelopmentIssuers(in: config)
        guard config.issuers.contains(where: { $0.keySource == .development }) else { return nil }
        return try DevelopmentIssuer.load(state: state)
    }
}
