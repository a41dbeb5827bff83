public import Hummingbird
public import Logging
public import NIOCore
public import WIFCore

/// Everything the HTTP server needs, injected (STYLE.md habit 9).
public struct ServerDependencies: Sendable {
    public var settings: ServerSettings
    public var exchanger: TokenExchanger
    /// Every signing key to publish in the JWKS (the active one included).
    public var publishedKeys: [SigningKey]
    public var clock: any WallClock
    public var audit: AuditLog
    public var logger: Logger

    public init(
        settings: ServerSettings,
        exchanger: TokenExchanger,
        publishedKeys: [SigningKey],
        clock: any WallClock,
        audit: AuditLog,
        logger: Logger
    ) {
        self.settings = settings
        self.exchanger = exchanger
        self.publishedKeys = publishedKeys
        self.clock = clock
        self.audit = audit
        self.logger = logger
    }
}

/// The router of `wif serve`: `/token`, discovery at both well-known paths, the JWKS, `/healthz`, `/readyz`.
public func buildRouter(_ dependencies: ServerDependencies) -> Router<WIFRequestContext> {
    let router = Router(context: WIFRequestContext.self)
    let issuer = dependencies.settings.issuerURL
    let endpoint = TokenEndpoint(
        exchanger: dependencies.exchanger,
        clock: dependencies.clock,
        audit: dependencies.audit,
        maxBodyBytes: dependencies.settings.maxBodyBytes
    )
    router.post("/token") { request, context in await endpoint.handle(request, context: context) }
    for method in [HTTPRequest.Method.get, .put, .delete, .patch, .head, .options] {
        router.on("/token", method: method) { request, context in endpoint.methodNotAllowed(request, context: context) }
    }

    let metadata = JSONValue.object([
        "issuer": .string(issuer),
        "token_endpoint": .string(issuer + "/token"),
        "jwks_uri": .string(issuer + jwksPath),
        "grant_types_supported": [.string(GrantType.tokenExchange.rawValue)],
        "token_endpoint_auth_methods_supported": ["none"],
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
    ]).serialized()
    let jwks = publishedJWKS(dependencies.publishedKeys).serialized()
    router.get("/.well-known/openid-configuration") { _, _ in publicJSON(metadata) }
    router.get("/.well-known/oauth-authorization-server") { _, _ in publicJSON(metadata) }
    router.get(RouterPath(jwksPath)) { _, _ in publicJSON(jwks) }
    router.get("/healthz") { _, _ in publicJSON(JSONValue.object(["status": "ok"]).serialized(), maxAge: 0) }
    router.get("/readyz") { _, _ in publicJSON(JSONValue.object(["status": "ready"]).serialized(), maxAge: 0) }
    return router
}

/// The path of wif's JWKS (named as `jwks_uri` in its metadata).
public let jwksPath = "/.well-known/jwks.json"

/// The application `wif serve` runs and the tests start on an ephemeral port. Throws
/// ``DevelopmentIssuerRefused`` when the trust-config uses the development issuer off loopback.
public func buildApplication(
    _ dependencies: ServerDependencies,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    try dependencies.settings.checkDevelopmentIssuers(in: dependencies.exchanger.config)
    return Application(
        router: buildRouter(dependencies),
        server: .http1(configuration: .init(idleTimeout: .seconds(30))),
        configuration: .init(address: .hostname(dependencies.settings.host, port: dependencies.settings.port), serverName: "wif"),
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
