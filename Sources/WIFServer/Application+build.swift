import CoreMetrics
public import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import Logging
public import NIOCore
public import Prometheus
public import ServiceLifecycle
public import WIFCore

/// Everything the HTTP server needs, injected (STYLE.md habit 9).
public struct ServerDependencies: Sendable {
    public var settings: ServerSettings
    /// The pipeline, swapped atomically by ``TrustConfigReloader``.
    public var exchanger: LiveExchanger
    /// Every signing key to publish in the JWKS (the active one included).
    public var publishedKeys: [SigningKey]
    public var clock: any WallClock
    public var audit: AuditLog
    public var logger: Logger
    /// Services that run beside the server and stop with it (e.g. ``IssuerKeyRefresher``).
    public var services: [any Service]
    /// Where wif's metrics are collected; served at `/metrics` when set. Give the key store and the
    /// reloader a `PrometheusMetricsFactory` over the same registry.
    public var metrics: PrometheusCollectorRegistry?
    /// The clock rate limits refill by (seconds); nil: a monotonic clock. Tests inject a fixed one.
    public var rateLimitClock: (any WallClock)?

    public init(
        settings: ServerSettings,
        exchanger: LiveExchanger,
        publishedKeys: [SigningKey],
        clock: any WallClock,
        audit: AuditLog,
        logger: Logger,
        services: [any Service] = [],
        metrics: PrometheusCollectorRegistry? = nil
    ) {
        self.settings = settings
        self.exchanger = exchanger
        self.publishedKeys = publishedKeys
        self.clock = clock
        self.audit = audit
        self.logger = logger
        self.services = services
        self.metrics = metrics
    }
}

/// The router of `wif serve`: `/token`, discovery at both well-known paths, the JWKS, `/healthz`, `/readyz`.
public func buildRouter(_ dependencies: ServerDependencies) -> Router<WIFRequestContext> {
    let router = Router(context: WIFRequestContext.self)
    router.add(middleware: RequestIDMiddleware())
    let issuer = dependencies.settings.issuerURL
    let endpoint = TokenEndpoint(
        exchanger: dependencies.exchanger,
        clock: dependencies.clock,
        audit: dependencies.audit,
        maxBodyBytes: dependencies.settings.maxBodyBytes,
        metrics: dependencies.metrics.map { PrometheusMetricsFactory(registry: $0) } ?? MetricsSystem.factory,
        limits: RequestLimiter(
            dependencies.settings.limits,
            clock: rateLimitClock(dependencies.rateLimitClock),
            metrics: dependencies.metrics.map { PrometheusMetricsFactory(registry: $0) } ?? MetricsSystem.factory
        ),
        readTimeout: dependencies.settings.requestReadTimeout
    )
    router.post("/token") { request, context in await endpoint.handle(request, context: context) }
    for method in [HTTPRequest.Method.get, .put, .delete, .patch, .head, .options] {
        router.on("/token", method: method) { request, context in endpoint.methodNotAllowed(request, context: context) }
    }

    if dependencies.settings.enableDryRun {
        let dryRun = DryRunEndpoint(
            exchanger: dependencies.exchanger,
            clock: dependencies.clock,
            issuerURL: issuer,
            maxBodyBytes: dependencies.settings.maxBodyBytes,
            logger: dependencies.logger,
            limits: endpoint.limits,
            readTimeout: endpoint.readTimeout
        )
        router.post(RouterPath(DryRunEndpoint.path)) { request, context in await dryRun.handle(request, context: context) }
    }

    let metadata = serverMetadata(issuer: issuer, tokenEndpoint: issuer + "/token").serialized()
    let jwks = publishedJWKS(dependencies.publishedKeys).serialized()
    router.get("/.well-known/openid-configuration") { _, _ in publicJSON(metadata) }
    router.get("/.well-known/oauth-authorization-server") { _, _ in publicJSON(metadata) }
    router.get(RouterPath(jwksPath)) { _, _ in publicJSON(jwks) }
    router.get("/healthz") { _, _ in publicJSON(JSONValue.object(["status": "ok"]).serialized(), maxAge: 0) }
    let exchanger = dependencies.exchanger
    router.get("/readyz") { _, _ in await readiness(exchanger.current) }
    if let registry = dependencies.metrics {
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer()))
            )
        }
    }
    addEntraRoutes(to: router, issuer: issuer, endpoint: endpoint)
    return router
}

/// Microsoft Entra's paths, so that MSAL and azure-identity work with wif as their authority unchanged:
/// `POST /{tenant}/oauth2/v2.0/token` is `/token`, and `GET /{tenant}/v2.0/.well-known/openid-configuration`
/// names it. The tenant segment selects nothing (trust comes from trust-config alone); it only has to be a
/// plain name, as Entra tenant ids and domains are.
private func addEntraRoutes(to router: Router<WIFRequestContext>, issuer: String, endpoint: TokenEndpoint) {
    router.post("/:tenant/oauth2/v2.0/token") { request, context in
        guard isTenantName(context.parameters.get("tenant")) else { return notFound() }
        return await endpoint.handle(request, context: context)
    }
    for method in [HTTPRequest.Method.get, .put, .delete, .patch, .head, .options] {
        router.on("/:tenant/oauth2/v2.0/token", method: method) { request, context in
            guard isTenantName(context.parameters.get("tenant")) else { return notFound() }
            return endpoint.methodNotAllowed(request, context: context)
        }
    }
    router.on("/:tenant/oauth2/v2.0/authorize", method: .get) { _, context in
        guard isTenantName(context.parameters.get("tenant")) else { return notFound() }
        // Named in the tenant document because MSAL requires one; wif has no interactive flows.
        let error = JSONValue.object([
            "error": "unsupported_response_type",
            "error_description": "wif serves no interactive authorization: use the token endpoint",
        ])
        return Response(
            status: .badRequest,
            headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: error.serialized()))
        )
    }
    router.get("/:tenant/v2.0/.well-known/openid-configuration") { _, context in
        guard let tenant = context.parameters.get("tenant"), isTenantName(tenant) else { return notFound() }
        let base = "\(issuer)/\(tenant)"
        var document = serverMetadata(issuer: issuer, tokenEndpoint: base + "/oauth2/v2.0/token")
        if case .object(var fields) = document {
            // MSAL requires an authorization endpoint in the document; wif serves no interactive flows there.
            fields["authorization_endpoint"] = .string(base + "/oauth2/v2.0/authorize")
            document = .object(fields)
        }
        return publicJSON(document.serialized())
    }
}

/// An Entra tenant id or domain: letters, digits, '.', '-' and '_', at most 64, not only dots.
private func isTenantName(_ tenant: String?) -> Bool {
    guard let tenant, (1...64).contains(tenant.utf8.count), tenant.utf8.contains(where: { $0 != UInt8(ascii: ".") }) else { return false }
    return tenant.utf8.allSatisfy { byte in
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }
}

/// The RFC 8414 / OpenID discovery document.
func serverMetadata(issuer: String, tokenEndpoint: String) -> JSONValue {
    .object([
        "issuer": .string(issuer),
        "token_endpoint": .string(tokenEndpoint),
        "jwks_uri": .string(issuer + jwksPath),
        "grant_types_supported": .array(GrantType.allCases.map { .string($0.rawValue) }),
        "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": .array(JWSAlgorithm.allCases.map { .string($0.rawValue) }),
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
    ])
}

private func notFound() -> Response {
    Response(
        status: .notFound,
        headers: [.contentType: "application/json"],
        body: ResponseBody(byteBuffer: ByteBuffer(bytes: JSONValue.object(["error": "not_found"]).serialized()))
    )
}

/// Ready when the trust-config has no issuers or at least one issuer has usable keys: one issuer's outage
/// answers its own tokens with 503 but does not take the service out of rotation. The body names each
/// issuer's state.
private func readiness(_ exchanger: TokenExchanger) async -> Response {
    let statuses = await exchanger.keySource.status(of: exchanger.config.issuers)
    let ready = IssuerKeyStatus.isReady(statuses)
    var issuers: [String: JSONValue] = [:]
    for status in statuses {
        issuers[status.issuer] = ["state": .string(status.state.rawValue), "keys": .number(Double(status.keyCount))]
    }
    let body = JSONValue.object(["status": ready ? "ready" : "not_ready", "issuers": .object(issuers)])
    return Response(
        status: ready ? .ok : .serviceUnavailable,
        headers: [.contentType: "application/json", .cacheControl: "no-store"],
        body: ResponseBody(byteBuffer: ByteBuffer(bytes: body.serialized()))
    )
}

/// Seconds for rate limits: the injected clock, or a monotonic one (a wall-clock step must not refill or
/// stall the buckets).
private func rateLimitClock(_ injected: (any WallClock)?) -> @Sendable () -> Double {
    if let injected { return { injected.now() } }
    let start = ContinuousClock.now
    return {
        (ContinuousClock.now - start).inSeconds
    }
}

/// The path of wif's JWKS (named as `jwks_uri` in its metadata).
public let jwksPath = "/.well-known/jwks.json"

/// The application `wif serve` runs and the tests start on an ephemeral port. Throws
/// ``DevelopmentIssuerRefused`` when the trust-config uses the development issuer off loopback.
public func buildApplication(
    _ dependencies: ServerDependencies,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    try dependencies.settings.checkDevelopmentIssuers(in: dependencies.exchanger.current.config)
    let http1 = HTTPServerBuilder.http1(configuration: .init(idleTimeout: TimeAmount(dependencies.settings.idleTimeout)))
    var server = http1
    var services = dependencies.services
    if let files = dependencies.settings.tls {
        let certificates = try TLSCertificateReloader(files: files, logger: dependencies.logger)
        server = try .tls(http1, tlsConfiguration: certificates.serverConfiguration())
        services.append(certificates)
    }
    return Application(
        router: buildRouter(dependencies),
        server: server,
        configuration: .init(address: .hostname(dependencies.settings.host, port: dependencies.settings.port), serverName: "wif"),
        services: services,
        onServerRunning: onServerRunning,
        logger: dependencies.logger
    )
}

private func publicJSON(_ body: [UInt8], maxAge: Int = 300) -> Response {
    Response(
        status: .ok,
        headers: [.contentType: "application/json", .cacheControl: maxAge > 0 ? "public, max-age=\(maxAge)" : "no-store"],
        body: ResponseBody(byteBuffer: ByteBuffer(bytes: body))
    )
}
