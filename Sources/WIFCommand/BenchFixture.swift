import AsyncHTTPClient
import Foundation
import Logging
import Prometheus
import WIFCore
import WIFServer
import WIFSources
import WIFTesting

/// The world `wif bench` measures in: `issuers` loopback test issuers with their own RSA keys, a
/// trust-config whose `policies` each match one subject exactly (spread over the issuers), and a pool of
/// distinct subject tokens spread over the policies.
struct BenchFixture {
    let testIssuers: [TestIssuer]
    let config: TrustConfig
    let pool: [String]
    let audience: String
    let signingKey: SigningKey
    let httpClient: HTTPClient
    /// Each issuer's keys, for the pipeline measured without HTTP.
    let keySets: [String: JWKSet]
    /// The server's audit log (about 1 KiB a record), removed by ``stop()``.
    let auditPath = FileManager.default.temporaryDirectory.appendingPathComponent("wif-bench-audit-\(UUID().uuidString).log").path

    static func start(issuers: Int, policies: Int, tokens: Int, audience: String) async throws -> BenchFixture {
        var testIssuers: [TestIssuer] = []
        for index in 0..<issuers { testIssuers.append(try await TestIssuer.start(keys: [try TestKey.rsa(keyID: "bench-\(index)")])) }
        var yaml = "issuers:\n"
        for (index, issuer) in testIssuers.enumerated() {
            yaml += """
                  - name: bench-\(index)
                    issuer: \(issuer.issuerURL)
                    keys:
                      discovery: true
                    allow_insecure_loopback: true
                    audiences: [wif]
                    algorithms: [RS256]

                """
        }
        // Policies in files of 1,000 (the loader takes files up to 1 MiB), named so that they load in order.
        var files: [TrustConfigLoader.File] = [.init(name: "0-issuers.yaml", contents: yaml)]
        yaml = ""
        for policy in 0..<policies {
            if policy % 1000 == 0 { yaml = "policies:\n" }
            yaml += """
                  - name: svc-\(policy)
                    issuer: bench-\(policy % issuers)
                    conditions:
                      - claim: sub
                        equals: system:serviceaccount:bench:svc-\(policy)
                    grant:
                      audiences: [\(audience)]
                      scopes: [read]
                      max_lifetime: 15m

                """
            if policy % 1000 == 999 || policy == policies - 1 {
                files.append(.init(name: "1-policies-\(String(100_000 + policy / 1000)).yaml", contents: yaml))
            }
        }
        let config = try TrustConfigLoader.load(files)
        let now = Date().timeIntervalSince1970.rounded(.down)
        var pool: [String] = []
        for index in 0..<tokens {
            let policy = index % policies
            let claims: JSONValue = [
                "iss": .string(testIssuers[policy % issuers].issuerURL), "sub": .string("system:serviceaccount:bench:svc-\(policy)"),
                "aud": ["wif"], "iat": .number(now), "nbf": .number(now), "exp": .number(now + 3600),
                "jti": .string(AccessTokenMinter.newTokenID()),
            ]
            pool.append(try testIssuers[policy % issuers].token(claims))
        }
        var keySets: [String: JWKSet] = [:]
        for (index, issuer) in testIssuers.enumerated() {
            keySets["bench-\(index)"] = try JWKSet.parse(JSONValue.object(["keys": .array(issuer.keys.map(\.publicJWK))]).serialized())
        }
        return BenchFixture(
            testIssuers: testIssuers,
            config: config,
            pool: pool,
            audience: audience,
            signingKey: SigningKey.generate(),
            httpClient: HTTPClient(eventLoopGroupProvider: .singleton, configuration: IssuerKeyStore.clientConfiguration),
            keySets: keySets
        )
    }

    /// The pipeline with the issuers' keys in memory: what the server runs per request, without HTTP.
    var inMemoryExchanger: TokenExchanger {
        TokenExchanger(
            config: config,
            keySource: InMemoryKeySource(keySets),
            minter: AccessTokenMinter(issuerURL: "http://127.0.0.1", signingKey: signingKey)
        )
    }

    /// The real server as `wif serve` assembles it: the issuer key store fetching by discovery, the audit
    /// log written to a file, Prometheus metrics.
    func serve(port: Int) async throws -> LoopbackServer {
        var logger = Logger(label: "wif-bench")
        logger.logLevel = .warning
        let registry = PrometheusCollectorRegistry()
        let keyStore = IssuerKeyStore(
            httpClient: httpClient,
            trustConfigFolder: nil,
            development: nil,
            clock: SystemClock(),
            logger: logger,
            metrics: PrometheusMetricsFactory(registry: registry)
        )
        var settings = ServerSettings(host: "127.0.0.1", port: port)
        // One load generator plays a whole fleet: the rate limits stay in the path but admit everything.
        settings.limits.perClient = .off
        settings.limits.perSubject = .off
        let live = LiveExchanger(
            TokenExchanger(config: config, keySource: keyStore, minter: AccessTokenMinter(issuerURL: settings.issuerURL, signingKey: signingKey))
        )
        let config = config
        let dependencies = ServerDependencies(
            settings: settings,
            exchanger: live,
            publishedKeys: [signingKey],
            clock: SystemClock(),
            audit: try AuditLog.file(auditPath),
            logger: logger,
            services: [IssuerKeyRefresher(store: keyStore) { config.issuers }],
            metrics: registry
        )
        let server = try await LoopbackServer.start { onRunning in try buildApplication(dependencies, onServerRunning: onRunning) }
        // Every issuer's keys fetched before the clock starts.
        for issuer in config.issuers { _ = try await keyStore.keys(for: issuer, keyID: nil) }
        return server
    }

    func form(_ token: String) -> [(name: String, value: String)] { Self.form(token, audience: audience) }

    static func form(_ token: String, audience: String) -> [(name: String, value: String)] {
        [
            ("grant_type", GrantType.tokenExchange.rawValue), ("subject_token_type", TokenTypeURI.jwt), ("subject_token", token),
            ("audience", audience),
        ]
    }

    func stop() async {
        try? FileManager.default.removeItem(atPath: auditPath)
        for issuer in testIssuers { await issuer.stop() }
        try? await httpClient.shutdown()
    }
}
