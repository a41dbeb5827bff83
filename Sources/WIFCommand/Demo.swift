import ArgumentParser
import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import WIFCore
import WIFServer
import WIFSources
import WIFTesting

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a complete token exchange in one process and show each step.",
        discussion: """
            Starts a local test issuer (its own RSA key, OIDC discovery and JWKS on a loopback port), starts wif \
            trusting it in place of the trust-config's development issuer, mints a Kubernetes-shaped token, \
            exchanges it over HTTP, verifies the issued token against wif's published JWKS, and shows a refusal.
            """
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Loopback port for the demo's wif server.")
    var port = 8089

    func run() async throws {
        var logger = Logger(label: "wif-demo")
        logger.logLevel = .warning
        let clock = SystemClock()
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: IssuerKeyStore.clientConfiguration)
        let issuer = try await TestIssuer.start(keys: [try TestKey.rsa(keyID: "demo-cluster-key")])
        var server: LoopbackServer?
        do {
            try await show(httpClient: httpClient, issuer: issuer, clock: clock, logger: logger, server: &server)
        } catch {
            await server?.stop()
            await issuer.stop()
            try? await httpClient.shutdown()
            throw error
        }
        await server?.stop()
        await issuer.stop()
        try await httpClient.shutdown()
    }

    private func show(httpClient: HTTPClient, issuer: TestIssuer, clock: SystemClock, logger: Logger, server: inout LoopbackServer?) async throws {
        step(1, "A local test issuer is serving OIDC discovery and a JWKS")
        print("   issuer:    \(issuer.issuerURL)")
        print("   discovery: \(issuer.issuerURL)/.well-known/openid-configuration")
        print("   JWKS:      \(issuer.jwksURL) (one RSA-2048 key, kid demo-cluster-key)")

        let settings = ServerSettings(host: "127.0.0.1", port: port)
        let runtime = try ExchangeRuntime.load(
            common: common,
            settings: settings,
            keysFolder: nil,
            httpClient: httpClient,
            clock: clock,
            logger: logger,
            adjust: { $0.rebindingDevelopmentIssuers(to: issuer.issuerURL) }
        )
        let dependencies = ServerDependencies(
            settings: settings,
            exchanger: runtime.live,
            publishedKeys: runtime.publishedKeys,
            clock: clock,
            audit: .discarding,
            logger: logger,
            services: [runtime.refresher]
        )
        server = try await LoopbackServer.start { onRunning in try buildApplication(dependencies, onServerRunning: onRunning) }
        let wifURL = settings.issuerURL
        let rebound = runtime.exchanger.config.issuers.filter { $0.issuer == issuer.issuerURL }
        step(2, "wif is serving at \(wifURL)")
        print("   trust-config: \(common.trustConfigPath) (\(runtime.exchanger.config.policies.count) policies)")
        print("   the development issuer \(rebound.map(\.name).joined(separator: ", ")) now trusts the test issuer, keys by discovery")
        print("   signing key:  ES256, kid \(runtime.exchanger.minter.signingKey.keyID)")

        guard let trusted = rebound.first else { throw CommandFailure("the trust-config has no development issuer for the demo to use") }
        let subjectToken = try issuer.kubernetesToken(
            audience: trusted.audiences[0],
            namespace: "demo",
            serviceAccount: "app",
            now: clock.now(),
            lifetime: 600
        )
        step(3, "The workload's projected service-account token (what the kubelet mounts in the pod)")
        try printToken(subjectToken)

        step(4, "POST \(wifURL)/token  (RFC 8693 token exchange)")
        print("   grant_type=urn:ietf:params:oauth:grant-type:token-exchange")
        print("   subject_token_type=urn:ietf:params:oauth:token-type:jwt  audience=https://api.demo.internal  scope=read")
        let (status, body) = try await postToken(
            httpClient,
            wifURL,
            ["subject_token": subjectToken, "audience": "https://api.demo.internal", "scope": "read"]
        )
        print("   -> HTTP \(status)")
        let response = try JSONValue.parse(body)
        guard status == 200, let accessToken = response["access_token"]?.stringValue else {
            print("   \(String(decoding: body, as: UTF8.self))")
            throw CommandFailure("the exchange did not succeed")
        }
        for key in ["token_type", "issued_token_type", "expires_in", "scope"] {
            print("   \(key): \(response[key]?.displayText ?? "-")")
        }
        print("   access_token: \(accessToken.prefix(40))...")

        step(5, "Verify the access token as an API would: discovery -> jwks_uri -> signature and claims")
        let metadata = try JSONValue.parse(try await get(httpClient, wifURL + "/.well-known/oauth-authorization-server"))
        guard let jwksURI = metadata["jwks_uri"]?.stringValue else { throw CommandFailure("wif's metadata has no jwks_uri") }
        let keys = try JWKSet.parse(try await get(httpClient, jwksURI))
        let wifAsIssuer = TrustedIssuer(
            name: "wif",
            issuer: wifURL,
            keySource: .jwksURL(jwksURI),
            audiences: ["https://api.demo.internal"],
            algorithms: [.es256]
        )
        let verified = try UnverifiedToken(parsing: accessToken).verify(issuer: wifAsIssuer, keys: keys, now: clock.now(), acceptedTypes: ["at+jwt"])
        print("   JWKS \(jwksURI): \(keys.keys.count) key(s); signature valid (ES256, kid \(verified.keyID ?? "-"))")
        try printToken(accessToken)

        step(6, "A token from another service account is refused")
        let intruder = try issuer.kubernetesToken(
            audience: trusted.audiences[0],
            namespace: "demo",
            serviceAccount: "intruder",
            now: clock.now(),
            lifetime: 600
        )
        let (deniedStatus, deniedBody) = try await postToken(httpClient, wifURL, ["subject_token": intruder])
        print("   system:serviceaccount:demo:intruder -> HTTP \(deniedStatus) \(String(decoding: deniedBody, as: UTF8.self))")
        print("\nDone: one real RFC 8693 exchange, end to end. Next: docs/trust-config.md to trust your own cluster.")
    }

    private func step(_ number: Int, _ title: String) {
        print("\n\(number). \(title)")
    }

    private func printToken(_ token: String) throws {
        let parts = token.split(separator: ".")
        guard parts.count == 3, let header = Base64URL.decode(String(parts[0])), let claims = Base64URL.decode(String(parts[1])) else {
            throw CommandFailure("not a compact JWS")
        }
        print("   header: \(String(decoding: try JSONValue.parse(header).serialized(), as: UTF8.self))")
        print("   claims: \(String(decoding: try JSONValue.parse(claims).serialized(), as: UTF8.self))")
    }

    private func postToken(_ client: HTTPClient, _ base: String, _ parameters: [String: String]) async throws -> (Int, [UInt8]) {
        var fields = ["grant_type": GrantType.tokenExchange.rawValue, "subject_token_type": TokenTypeURI.jwt]
        fields.merge(parameters) { $1 }
        let body = FormEncoding.body(fields.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        var request = HTTPClientRequest(url: base + "/token")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await client.execute(request, timeout: .seconds(10))
        return (Int(response.status.code), Array(buffer: try await response.body.collect(upTo: 1 << 20)))
    }

    private func get(_ client: HTTPClient, _ url: String) async throws -> [UInt8] {
        let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        return Array(buffer: try await response.body.collect(upTo: 1 << 20))
    }
}

extension TrustConfig {
    /// The same config with every development issuer replaced by the issuer at `url` (keys by discovery over
    /// loopback http, RS256 allowed): how `wif demo` plugs its local test issuer into the repo's trust-config.
    func rebindingDevelopmentIssuers(to url: String) -> TrustConfig {
        TrustConfig(
            issuers: issuers.map { issuer in
                guard issuer.keySource == .development else { return issuer }
                return TrustedIssuer(
                    name: issuer.name,
                    issuer: url,
                    keySource: .discovery,
                    audiences: issuer.audiences,
                    algorithms: issuer.algorithms.union([.rs256]),
                    maxTokenLifetime: issuer.maxTokenLifetime,
                    leeway: issuer.leeway,
                    allowInsecureLoopback: true
                )
            },
            policies: policies
        )
    }
}
