import HTTPTypes
public import Hummingbird
import Logging
import NIOCore
public import WIFCore

/// A local server speaking the two cloud metadata protocols wif's clients read identity tokens from, as
/// the real ones answer them:
///
/// - Google's: `GET /computeMetadata/v1/instance/service-accounts/default/identity?audience=…&format=full`,
///   refused (403) without `Metadata-Flavor: Google`, answered with the token as text and the same header.
/// - Azure IMDS: `GET /metadata/identity/oauth2/token?api-version=…&resource=…`, refused (400) without
///   `Metadata: true`, answered with a JSON token response whose `access_token` is the token.
///
/// `mint` makes the token for the requested audience (Google) or resource (Azure).
public final class TestMetadataServer: Sendable {
    public let server: LoopbackServer
    private let state: Locked<State>

    struct State {
        var requests: [String] = []
        var failures: [Int] = []
        var impostor = false
    }

    /// `127.0.0.1:PORT`, as `GCE_METADATA_HOST` takes it.
    public var host: String { "127.0.0.1:\(server.port)" }
    /// `http://127.0.0.1:PORT`, as `AZURE_POD_IDENTITY_AUTHORITY_HOST` takes it.
    public var baseURL: String { server.baseURL }
    /// Each request's path and query, in order.
    public var requests: [String] { state.withLock { $0.requests } }

    /// Answers the next requests with these statuses (one each) before answering normally again.
    public func fail(next statuses: [Int]) { state.withLock { $0.failures = statuses } }

    /// Answers Google's protocol without `Metadata-Flavor: Google`, as something that is not a metadata
    /// server would.
    public func actAsImpostor(_ on: Bool) { state.withLock { $0.impostor = on } }

    private init(server: LoopbackServer, state: Locked<State>) {
        self.server = server
        self.state = state
    }

    public static func start(mint: @escaping @Sendable (_ audience: String) throws -> String) async throws -> TestMetadataServer {
        let state = Locked(State())
        let router = Router()
        router.get("/computeMetadata/v1/instance/service-accounts/default/identity") { request, _ -> Response in
            if let failure = state.next(request) { return Response(status: .init(code: failure)) }
            guard request.headers[HTTPField.Name("Metadata-Flavor")!] == "Google" else {
                return text(.forbidden, "Missing required header: Metadata-Flavor", google: true)
            }
            guard let audience = request.uri.queryParameters.get("audience"), !audience.isEmpty else {
                return text(.badRequest, "non-empty audience parameter required", google: true)
            }
            guard request.uri.queryParameters.get("format") == "full" else {
                return text(.badRequest, "this test server answers format=full only", google: true)
            }
            return text(.ok, try mint(audience), google: !state.withLock(\.impostor))
        }
        router.get("/metadata/identity/oauth2/token") { request, _ -> Response in
            if let failure = state.next(request) { return Response(status: .init(code: failure)) }
            guard request.headers[HTTPField.Name("Metadata")!] == "true" else {
                return json(.badRequest, ["error": "invalid_request", "error_description": "Required metadata header not specified"])
            }
            guard request.uri.queryParameters.get("api-version") != nil else {
                return json(.badRequest, ["error": "invalid_request", "error_description": "Required query variable 'api-version' is missing"])
            }
            guard let resource = request.uri.queryParameters.get("resource"), !resource.isEmpty else {
                return json(.badRequest, ["error": "invalid_request", "error_description": "Required query variable 'resource' is missing"])
            }
            return json(
                .ok,
                [
                    "access_token": .string(try mint(resource)), "expires_in": "3599", "expires_on": "1800003599", "resource": .string(resource),
                    "token_type": "Bearer",
                ]
            )
        }
        let server = try await LoopbackServer.start { onRunning in
            Application(
                router: router,
                configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: onRunning,
                logger: Logger(label: "wif-test-metadata", factory: { _ in SwiftLogNoOpLogHandler() })
            )
        }
        return TestMetadataServer(server: server, state: state)
    }

    public func stop() async {
        await server.stop()
    }

    private static func text(_ status: HTTPResponse.Status, _ body: String, google: Bool) -> Response {
        var headers: HTTPFields = [.contentType: "application/text"]
        if google { headers[HTTPField.Name("Metadata-Flavor")!] = "Google" }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    private static func json(_ status: HTTPResponse.Status, _ body: JSONValue) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: body.serialized())))
    }
}

extension Locked where Value == TestMetadataServer.State {
    /// Records the request; the status to fail it with, if a failure is due.
    fileprivate func next(_ request: Request) -> Int? {
        withLock { state in
            state.requests.append(request.uri.description)
            return state.failures.isEmpty ? nil : state.failures.removeFirst()
        }
    }
}
