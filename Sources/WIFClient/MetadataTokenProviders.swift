public import AsyncHTTPClient
public import Foundation
import NIOCore
import NIOHTTP1
public import WIFCore

/// The identity token of a Google Compute Engine VM (or GKE node, Cloud Run service…), from its metadata
/// server: `GET /computeMetadata/v1/instance/service-accounts/default/identity?audience=…&format=full` with
/// `Metadata-Flavor: Google`. The answer must carry `Metadata-Flavor: Google` too, so that nothing else
/// listening at that address can hand the workload a token.
///
/// The host is `GCE_METADATA_HOST` when set (`host` or `host:port`, as Google's SDKs read it), else
/// `metadata.google.internal`.
public struct GCEMetadataTokenProvider: SubjectTokenProvider {
    public let audience: String
    /// `http://host[:port]`.
    public let base: String
    let httpClient: HTTPClient

    public init(
        audience: String,
        host: String? = nil,
        httpClient: HTTPClient = TokenSource.defaultHTTPClient,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.audience = audience
        var host = host ?? environment["GCE_METADATA_HOST"] ?? "metadata.google.internal"
        if host.hasPrefix("http://") { host.removeFirst("http://".count) }
        while host.hasSuffix("/") { host.removeLast() }
        self.base = "http://" + host
        self.httpClient = httpClient
    }

    public var origin: String { "the GCE metadata server at \(base)" }

    public func subjectToken() async throws(WIFClientError) -> SubjectToken {
        let path = "/computeMetadata/v1/instance/service-accounts/default/identity"
        let url = base + path + "?audience=" + FormBody.percentEncode(audience) + "&format=full"
        let answer = try await MetadataRequest.get(url, headers: [("Metadata-Flavor", "Google")], origin: origin, httpClient: httpClient)
        guard answer.headers["Metadata-Flavor"].contains("Google") else {
            throw WIFClientError(.subjectToken, "\(origin) answered without Metadata-Flavor: Google; it is not a metadata server")
        }
        return try SubjectToken.trimmed(answer.body, type: TokenTypeURI.idToken, origin: origin)
    }
}

/// The managed identity token of an Azure VM (or VM scale set instance), from the Instance Metadata
/// Service: `GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=…` with `Metadata: true`.
/// The token is the JWT in the answer's `access_token`.
///
/// The host is `AZURE_POD_IDENTITY_AUTHORITY_HOST` when set (a URL, as Azure's SDKs read it), else
/// `http://169.254.169.254`. `clientID` selects a user-assigned identity.
public struct AzureIMDSTokenProvider: SubjectTokenProvider {
    public let resource: String
    public let clientID: String?
    /// `http://host[:port]`.
    public let base: String
    let httpClient: HTTPClient

    public init(
        resource: String,
        clientID: String? = nil,
        host: String? = nil,
        httpClient: HTTPClient = TokenSource.defaultHTTPClient,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.resource = resource
        self.clientID = clientID
        var base = host ?? environment["AZURE_POD_IDENTITY_AUTHORITY_HOST"] ?? "http://169.254.169.254"
        if !base.contains("://") { base = "http://" + base }
        while base.hasSuffix("/") { base.removeLast() }
        self.base = base
        self.httpClient = httpClient
    }

    public var origin: String { "Azure IMDS at \(base)" }

    public func subjectToken() async throws(WIFClientError) -> SubjectToken {
        var url = base + "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=" + FormBody.percentEncode(resource)
        if let clientID { url += "&client_id=" + FormBody.percentEncode(clientID) }
        let answer = try await MetadataRequest.get(url, headers: [("Metadata", "true")], origin: origin, httpClient: httpClient)
        guard let json = try? JSONValue.parse(answer.body), let token = json["access_token"]?.stringValue else {
            throw WIFClientError(.subjectToken, "\(origin) answered without an access_token")
        }
        return try SubjectToken.trimmed(Array(token.utf8), type: TokenTypeURI.jwt, origin: origin)
    }
}

/// One GET to a metadata server, on the link-local network: 2 s to connect, 10 s in all, 64 KiB at most.
/// A metadata server that is starting, throttling (429) or failing (5xx; Azure IMDS also answers 404 and
/// 410 while it starts) is worth retrying; any other answer is not.
enum MetadataRequest {
    struct Answer {
        let headers: HTTPHeaders
        let body: [UInt8]
    }

    static func get(_ url: String, headers: [(String, String)], origin: String, httpClient: HTTPClient) async throws(WIFClientError) -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        do {
            let response = try await httpClient.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: maximumSubjectTokenBytes)
            let status = Int(response.status.code)
            guard status == 200 else {
                let fields = OAuthFields(Array(buffer: body))
                let retryable = status == 404 || status == 410 || status == 429 || status >= 500
                throw WIFClientError(
                    .subjectToken,
                    "\(origin) refused the identity token request",
                    status: status,
                    oauthError: fields.error,
                    errorDescription: fields.description,
                    retryable: retryable
                )
            }
            return Answer(headers: response.headers, body: Array(buffer: body))
        } catch let error as WIFClientError {
            throw error
        } catch {
            throw WIFClientError(.subjectToken, "cannot reach \(origin): \(error)", retryable: true)
        }
    }
}
