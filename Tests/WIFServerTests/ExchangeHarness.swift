import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import Prometheus
import Synchronization
import Testing
import WIFCore
import WIFServer
import WIFSources
import WIFTesting

/// Keys generated once for the whole test run (RSA generation is slow in debug builds).
enum SharedKeys {
    static let issuerRSA = try! TestKey.rsa(keyID: "cluster-rsa-1")
    static let issuerEC = TestKey.p256(keyID: "cluster-ec-1")
    static let otherRSA = try! TestKey.rsa(keyID: "attacker-rsa-1")
}

/// A real exchange set-up: a test issuer serving discovery + JWKS on loopback, the real wif server on an
/// ephemeral loopback port trusting it through a YAML trust-config, a fixed clock, and a captured audit log.
final class ExchangeHarness: Sendable {
    static let now: Double = 1_800_000_000
    static let wifIssuer = "https://wif.test"

    let issuer: TestIssuer
    let server: LoopbackServer
    let client: HTTPClient
    let clock: FixedClock
    let auditBox: AuditBox
    /// wif's issuer URL: ``wifIssuer`` on plain HTTP, the real `https://127.0.0.1:PORT` with TLS.
    let wifIssuerURL: String
    let tls: TestCertificateAuthority?
    /// The pipeline the server answers with (what a reload swaps).
    let live: LiveExchanger

    var baseURL: String { tls == nil ? server.baseURL : wifIssuerURL }

    /// The trust-config used by every integration test, as a platform team would write it.
    static func trustConfigYAML(issuerURL: String) -> String {
        """
        issuers:
          - name: cluster
            issuer: \(issuerURL)
            keys:
              discovery: true
            allow_insecure_loopback: true
            audiences: [wif]
            algorithms: [RS256, ES256]
            max_token_lifetime: 24h
            leeway: 60s
        policies:
          - name: payments-api
            issuer: cluster
            conditions:
              - claim: [kubernetes.io, namespace]
                equals: payments
              - claim: [kubernetes.io, serviceaccount, name]
                one_of: [api, worker]
            grant:
              audiences: [https://ledger.internal, https://audit.internal]
              scopes: [ledger.read, ledger.write]
              default_scopes: [ledger.read]
              max_lifetime: 15m
              claims:
                namespace: [kubernetes.io, namespace]
                service_account: [kubernetes.io, serviceaccount, name]
            delegation:
              actors:
                - issuer: cluster
                  conditions:
                    - claim: sub
                      equals: system:serviceaccount:edge:gateway
          - name: billing
            issuer: cluster
            description: An Entra-style client; client_id is its application id.
            conditions:
              - claim: sub
                equals: system:serviceaccount:payments:billing
            grant:
              audiences: [api://payments]
              scopes: [payments.read, payments.write]
              default_scopes: [payments.read]
              client_id: \(billingClientID)
          - name: payments-next
            issuer: cluster
            description: Shadow rollout of a wider rule for the namespace; never grants.
            mode: audit
            conditions:
              - claim: [kubernetes.io, namespace]
                equals: payments
            grant:
              audiences: [https://ledger.internal]
              scopes: [ledger.read]
          - name: release-bot
            issuer: cluster
            conditions:
              - claim: sub
                regex: "system:serviceaccount:ci:(release|deploy)"
            grant:
              audiences: [https://deploy.internal]
              scopes: [deploy]
        """
    }

    /// The application (client) id the `billing` policy names, as an Entra app registration would have.
    static let billingClientID = "5c1d8a3e-7f21-4d6b-9a0e-2b3c4d5e6f70"

    private init(
        issuer: TestIssuer,
        server: LoopbackServer,
        client: HTTPClient,
        clock: FixedClock,
        auditBox: AuditBox,
        wifIssuerURL: String,
        tls: TestCertificateAuthority?,
        live: LiveExchanger
    ) {
        self.issuer = issuer
        self.server = server
        self.client = client
        self.clock = clock
        self.auditBox = auditBox
        self.wifIssuerURL = wifIssuerURL
        self.tls = tls
        self.live = live
    }

    /// Starts the issuer and wif; with `tls`, wif listens with that authority's server certificate on a
    /// reserved port and names itself `https://127.0.0.1:PORT`, and the client trusts only that authority.
    static func start(
        signingKey: SigningKey = SigningKey.generate(),
        keyLimits: IssuerKeyStore.Limits = .init(),
        tls: TestCertificateAuthority? = nil,
        clock: FixedClock = FixedClock(now),
        refresher: Bool = false,
        audit: AuditLog? = nil,
        metrics: PrometheusCollectorRegistry? = nil,
        dryRun: Bool = false,
        limits: RequestLimitSettings? = nil,
        idleTimeout: Duration? = nil,
        readTimeout: Duration? = nil
    ) async throws -> ExchangeHarness {
        let issuer = try await TestIssuer.start(keys: [SharedKeys.issuerRSA, SharedKeys.issuerEC])
        let config = try TrustConfigLoader.load([.init(name: "test.yaml", contents: trustConfigYAML(issuerURL: issuer.issuerURL))])
        var clientConfiguration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        var port = 0
        var wifIssuerURL = wifIssuer
        if let tls {
            var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
            tlsConfiguration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(tls.caPEM.utf8)))
            clientConfiguration.tlsConfiguration = tlsConfiguration
            port = try await LoopbackServer.reservePort()
            wifIssuerURL = "https://127.0.0.1:\(port)"
        }
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        let keySource: IssuerKeyStore
        var logger = Logger(label: "wif-test")
        logger.logLevel = .critical
        keySource = IssuerKeyStore(
            httpClient: client,
            trustConfigFolder: nil,
            development: nil,
            clock: clock,
            limits: keyLimits,
            logger: logger,
            metrics: metrics.map { PrometheusMetricsFactory(registry: $0) }
        )
        let minter = AccessTokenMinter(issuerURL: wifIssuerURL, signingKey: signingKey)
        let live = LiveExchanger(TokenExchanger(config: config, keySource: keySource, minter: minter))
        let box = AuditBox()
        var settings = ServerSettings(
            host: "127.0.0.1",
            port: port,
            issuerURL: wifIssuerURL,
            tls: tls.map { TLSFiles(certificateChain: $0.certificateFile.path, privateKey: $0.keyFile.path) }
        )
        settings.enableDryRun = dryRun
        if let limits { settings.limits = limits }
        if let idleTimeout { settings.idleTimeout = idleTimeout }
        if let readTimeout { settings.requestReadTimeout = readTimeout }
        var dependencies = ServerDependencies(
            settings: settings,
            exchanger: live,
            publishedKeys: [signingKey],
            clock: clock,
            audit: audit ?? AuditLog { (line: [UInt8]) in box.append(line) },
            logger: logger,
            services: refresher ? [IssuerKeyRefresher(store: keySource, interval: .milliseconds(100)) { config.issuers }] : [],
            metrics: metrics
        )
        // Explicit limits refill by the test's clock; the defaults keep a monotonic one.
        if limits != nil { dependencies.rateLimitClock = clock }
        let server: LoopbackServer
        do {
            server = try await LoopbackServer.start { [dependencies] onRunning in try buildApplication(dependencies, onServerRunning: onRunning) }
        } catch {
            // A reserved port can be taken before wif binds it: release what was started, for a retry.
            try? await client.shutdown()
            await issuer.stop()
            throw error
        }
        return ExchangeHarness(
            issuer: issuer,
            server: server,
            client: client,
            clock: clock,
            auditBox: box,
            wifIssuerURL: wifIssuerURL,
            tls: tls,
            live: live
        )
    }

    /// Runs `body` against a fresh harness and always stops it, awaiting the shutdown.
    static func with(
        keyLimits: IssuerKeyStore.Limits = .init(),
        tls: TestCertificateAuthority? = nil,
        clock: FixedClock = FixedClock(now),
        refresher: Bool = false,
        audit: AuditLog? = nil,
        metrics: PrometheusCollectorRegistry? = nil,
        dryRun: Bool = false,
        limits: RequestLimitSettings? = nil,
        idleTimeout: Duration? = nil,
        readTimeout: Duration? = nil,
        _ body: (ExchangeHarness) async throws -> Void
    ) async throws {
        var attempts = 0
        let harness: ExchangeHarness
        while true {
            do {
                harness = try await start(
                    keyLimits: keyLimits,
                    tls: tls,
                    clock: clock,
                    refresher: refresher,
                    audit: audit,
                    metrics: metrics,
                    dryRun: dryRun,
                    limits: limits,
                    idleTimeout: idleTimeout,
                    readTimeout: readTimeout
                )
                break
            } catch {
                // With TLS the port is reserved before wif binds it; another server may have taken it.
                guard tls != nil, attempts < 2 else { throw error }
                attempts += 1
            }
        }
        do {
            try await body(harness)
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    func stop() async {
        await server.stop()
        await issuer.stop()
        try? await client.shutdown()
    }

    /// Claims of a valid token for `payments/api`, with `changes` applied (nil removes a claim).
    func claims(namespace: String = "payments", serviceAccount: String = "api", _ changes: [String: JSONValue?] = [:]) -> JSONValue {
        var claims = TokenFactory.kubernetesClaims(
            issuer: issuer.issuerURL,
            audience: "wif",
            namespace: namespace,
            serviceAccount: serviceAccount,
            now: clock.now(),
            lifetime: 3600
        ).objectValue!
        for (name, value) in changes { claims[name] = value }
        return .object(claims)
    }

    /// A valid subject token for `payments/api` signed with the issuer's RSA key.
    func validToken(key: TestKey = SharedKeys.issuerRSA, _ changes: [String: JSONValue?] = [:]) throws -> String {
        try TokenFactory.token(claims: claims(changes), key: key)
    }

    /// A valid token of another workload of the cluster, e.g. `edge/gateway` or `payments/billing`.
    func workloadToken(
        namespace: String,
        serviceAccount: String,
        key: TestKey = SharedKeys.issuerEC,
        _ changes: [String: JSONValue?] = [:]
    ) throws
        -> String
    {
        var fields = claims(namespace: namespace, serviceAccount: serviceAccount).objectValue!
        for (name, value) in changes { fields[name] = value }
        return try TokenFactory.token(claims: .object(fields), key: key)
    }

    struct Answer {
        let status: Int
        let headers: HTTPHeaders
        let body: JSONValue
        let text: String
    }

    /// Sends a raw `/token` request.
    func send(
        method: HTTPMethod = .POST,
        path: String = "/token",
        contentType: String? = "application/x-www-form-urlencoded",
        headers: [(String, String)] = [],
        body: String
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if method != .GET { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await client.execute(request, timeout: .seconds(10))
        let bytes = Array(buffer: try await response.body.collect(upTo: 1 << 20))
        let json = (try? JSONValue.parse(bytes)) ?? .null
        return Answer(status: Int(response.status.code), headers: response.headers, body: json, text: String(decoding: bytes, as: UTF8.self))
    }

    /// Sends an RFC 8693 exchange of `token` with extra form fields.
    func exchange(_ token: String, _ extra: [(String, String)] = []) async throws -> Answer {
        let fields =
            [
                ("grant_type", GrantType.tokenExchange.rawValue), ("subject_token_type", TokenTypeURI.jwt), ("subject_token", token),
            ] + extra
        return try await send(body: Self.form(fields))
    }

    static func form(_ fields: [(String, String)]) -> String {
        FormEncoding.body(fields)
    }

    var audit: [JSONValue] { auditBox.lines.withLock { $0 } }

    /// Asserts the invariants every refusal shares (security-cases.md §1.2) and returns the audit record.
    @discardableResult
    func expectRefusal(
        _ answer: Answer,
        status: Int,
        error: String,
        description: String? = nil,
        reason: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> JSONValue? {
        #expect(answer.status == status, "status", sourceLocation: sourceLocation)
        #expect(answer.body["error"]?.stringValue == error, "error code in \(answer.text)", sourceLocation: sourceLocation)
        let requestID = answer.headers["X-Request-Id"].first ?? "missing"
        #expect(requestID != "missing", "every response names its request id", sourceLocation: sourceLocation)
        if let description {
            #expect(answer.body["error_description"]?.stringValue == description + " (request \(requestID))", sourceLocation: sourceLocation)
        }
        #expect(answer.body["access_token"] == nil, "no token issued", sourceLocation: sourceLocation)
        #expect(answer.body.objectValue?.keys.sorted() == ["error", "error_description"], sourceLocation: sourceLocation)
        #expect(answer.headers["Content-Type"].first == "application/json", sourceLocation: sourceLocation)
        #expect(answer.headers["Cache-Control"].first == "no-store", sourceLocation: sourceLocation)
        #expect(answer.headers["Pragma"].first == "no-cache", sourceLocation: sourceLocation)
        let descriptionText = answer.body["error_description"]?.stringValue ?? ""
        #expect(
            descriptionText.utf8.allSatisfy { $0 == 0x20 || $0 == 0x21 || (0x23...0x5B).contains($0) || (0x5D...0x7E).contains($0) },
            "error_description character set",
            sourceLocation: sourceLocation
        )
        let record = audit.last
        #expect(audit.count == 1, "exactly one audit record", sourceLocation: sourceLocation)
        #expect(record?["outcome"]?.stringValue == "denied", sourceLocation: sourceLocation)
        #expect(record?["reason"]?.stringValue == reason, "audit reason", sourceLocation: sourceLocation)
        #expect(
            record?["request_id"]?.stringValue == requestID,
            "the audit record is under the response's request id",
            sourceLocation: sourceLocation
        )
        return record
    }
}

final class AuditBox: Sendable {
    let lines = Mutex<[JSONValue]>([])
    func append(_ line: [UInt8]) {
        let record = (try? JSONValue.parse(line)) ?? .null
        lines.withLock { $0.append(record) }
    }
}

extension ExchangeHarness {
    /// The claims of the access token in a 200 answer, after checking its ES256 signature against the JWKS
    /// wif serves and its `typ: at+jwt` header.
    func issuedClaims(_ answer: Answer, sourceLocation: SourceLocation = #_sourceLocation) async throws -> JSONValue {
        #expect(answer.status == 200, "\(answer.text)", sourceLocation: sourceLocation)
        let token = try #require(answer.body["access_token"]?.stringValue, sourceLocation: sourceLocation)
        return try await verifiedClaims(token, sourceLocation: sourceLocation)
    }

    /// The claims of an access token wif issued, after checking its signature and `typ`.
    func verifiedClaims(_ token: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> JSONValue {
        let jwks = try await send(method: .GET, path: "/.well-known/jwks.json", contentType: nil, body: "")
        let keys = try JWKSet.parse(Array(jwks.text.utf8))
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        try #require(parts.count == 3, sourceLocation: sourceLocation)
        let header = try JSONValue.parse(try #require(Base64URL.decode(parts[0])))
        #expect(header["typ"] == "at+jwt", sourceLocation: sourceLocation)
        let key = try #require(keys.key(for: header["kid"]?.stringValue), sourceLocation: sourceLocation)
        let signature = try #require(Base64URL.decode(parts[2]))
        #expect(key.isValidSignature(signature, over: Array("\(parts[0]).\(parts[1])".utf8), algorithm: .es256), sourceLocation: sourceLocation)
        return try JSONValue.parse(try #require(Base64URL.decode(parts[1])))
    }
}
