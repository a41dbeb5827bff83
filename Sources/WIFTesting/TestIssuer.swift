import Hummingbird
import Logging
import NIOCore
import Synchronization
public import WIFCore

/// A real OIDC issuer on loopback for tests and `wif demo`: serves discovery and a JWKS over HTTP, signs
/// tokens with its keys, and counts every request it receives (so tests can prove a fetch did or did not
/// happen).
public final class TestIssuer: Sendable {
    public let server: LoopbackServer
    private let state: Locked<State>

    struct State {
        var keys: [TestKey]
        var hits: [String] = []
        var url = ""
        var trickle = false
        var cacheControl: String?
        var failure: Int?
        var jwksPath = "/jwks"
        var delay: Duration?
        var rawJWKS: JSONValue?
    }

    /// The `iss` of its tokens: `http://127.0.0.1:<port>`.
    public var issuerURL: String { server.baseURL }
    public var jwksURL: String { server.baseURL + "/jwks" }

    private init(server: LoopbackServer, state: Locked<State>) {
        self.server = server
        self.state = state
    }

    /// Starts an issuer publishing `keys` (the first one signs by default).
    public static func start(keys: [TestKey]) async throws -> TestIssuer {
        let state = Locked(State(keys: keys))
        let router = Router()
        router.get("/.well-known/openid-configuration") { _, _ -> Response in
            let (issuer, failure, jwksPath) = state.withLock { state in
                state.hits.append("/.well-known/openid-configuration")
                return (state.url, state.failure, state.jwksPath)
            }
            if let failure { return Response(status: .init(code: failure)) }
            let body: JSONValue = [
                "issuer": .string(issuer), "jwks_uri": .string(issuer + jwksPath), "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            ]
            return Self.json(body)
        }
        // Redirects to the JWKS: relative, and to another scheme.
        router.get("/moved/jwks") { _, _ -> Response in
            state.withLock { $0.hits.append("/moved/jwks") }
            return Response(status: .found, headers: [.location: "/jwks"])
        }
        router.get("/moved/twice") { _, _ -> Response in
            state.withLock { $0.hits.append("/moved/twice") }
            return Response(status: .movedPermanently, headers: [.location: "/moved/jwks"])
        }
        router.get("/moved/loop") { _, _ -> Response in
            state.withLock { $0.hits.append("/moved/loop") }
            return Response(status: .temporaryRedirect, headers: [.location: "/moved/loop"])
        }
        router.get("/moved/https") { _, _ -> Response in
            let url = state.withLock { state in
                state.hits.append("/moved/https")
                return state.url
            }
            return Response(status: .found, headers: [.location: "https://" + url.dropFirst("http://".count) + "/jwks"])
        }
        router.get("/jwks") { _, _ -> Response in
            let (keys, trickle, failure, cacheControl, delay, raw) = state.withLock { state in
                state.hits.append("/jwks")
                return (state.keys, state.trickle, state.failure, state.cacheControl, state.delay, state.rawJWKS)
            }
            if let delay { try await Task.sleep(for: delay) }
            if let failure { return Response(status: .init(code: failure)) }
            let body = (raw ?? JSONValue.object(["keys": .array(keys.map(\.publicJWK))])).serialized()
            if let cacheControl {
                var response = Self.json(body)
                response.headers[.cacheControl] = cacheControl
                return response
            }
            guard trickle else { return Self.json(body) }
            // A hostile or broken source: the status and headers at once, then one byte a second.
            return Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: ResponseBody { writer in
                    for byte in body {
                        try await writer.write(ByteBuffer(bytes: [byte]))
                        try await Task.sleep(for: .seconds(1))
                    }
                    try await writer.finish(nil)
                }
            )
        }
        let server = try await LoopbackServer.start { onRunning in
            Application(
                router: router,
                configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: onRunning,
                logger: Self.quietLogger
            )
        }
        state.withLock { $0.url = server.baseURL }
        return TestIssuer(server: server, state: state)
    }

    /// The keys it publishes now.
    public var keys: [TestKey] { state.withLock { $0.keys } }

    /// Replaces the published keys (rotation).
    public func publish(_ keys: [TestKey]) { state.withLock { $0.keys = keys } }

    /// Serves exactly this JWKS document instead of the keys' (hostile or broken key sets), or the keys'
    /// again with nil.
    public func publish(rawJWKS: JSONValue?) { state.withLock { $0.rawJWKS = rawJWKS } }

    /// Makes the JWKS answer at once but send its body one byte a second (a trickling source).
    public func trickleJWKS(_ on: Bool) { state.withLock { $0.trickle = on } }

    /// Sends `Cache-Control` with the JWKS (nil: none).
    public func cacheControl(_ value: String?) { state.withLock { $0.cacheControl = value } }

    /// Answers discovery and the JWKS with this HTTP status (an outage), or normally again with nil.
    public func fail(with status: Int?) { state.withLock { $0.failure = status } }

    /// The path the discovery document names as `jwks_uri` (e.g. `/moved/jwks` to make it redirect).
    public func serveJWKSURI(path: String) { state.withLock { $0.jwksPath = path } }

    /// Makes the JWKS answer only after `delay` (a slow source), or at once again with nil.
    public func delayJWKS(_ delay: Duration?) { state.withLock { $0.delay = delay } }

    /// Forgets the requests counted so far.
    public func resetHits() { state.withLock { $0.hits = [] } }

    /// The paths requested so far.
    public var hits: [String] { state.withLock { $0.hits } }

    /// A token with `claims` signed by `key` (default: the first published key).
    public func token(_ claims: JSONValue, key: TestKey? = nil) throws -> String {
        guard let key = key ?? keys.first else { throw TestIssuerError.noKey }
        return try TokenFactory.token(claims: claims, key: key)
    }

    /// A Kubernetes-shaped token from this issuer.
    public func kubernetesToken(
        audience: String,
        namespace: String = "demo",
        serviceAccount: String = "app",
        now: Double,
        lifetime: Double = 3600
    )
        throws -> String
    {
        try token(
            TokenFactory.kubernetesClaims(
                issuer: issuerURL,
                audience: audience,
                namespace: namespace,
                serviceAccount: serviceAccount,
                now: now,
                lifetime: lifetime
            )
        )
    }

    private static var quietLogger: Logger {
        var logger = Logger(label: "wif-test-issuer")
        logger.logLevel = .warning
        return logger
    }

    public func stop() async {
        await server.stop()
    }

    private static func json(_ value: JSONValue) -> Response {
        json(value.serialized())
    }

    private static func json(_ bytes: [UInt8]) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }
}

/// A value shared between request handlers and the test, behind a lock.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}

enum TestIssuerError: Error {
    case noKey
}
