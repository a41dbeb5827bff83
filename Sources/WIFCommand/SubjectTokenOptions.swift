import ArgumentParser
import AsyncHTTPClient
import NIOCore
import NIOSSL
import WIFClient
import WIFCore

/// Where `wif exchange` and `wif whoami` get the workload's own token: exactly one source.
struct SubjectTokenOptions: ParsableArguments {
    @Option(
        name: .customLong("token-file"),
        help: "Read the subject token from this file, anew for every exchange, e.g. a projected service-account token (env WIF_TOKEN_FILE)."
    )
    var tokenFile: String?

    @Option(name: .customLong("token-env"), help: "Take the subject token from this environment variable (its name).")
    var tokenEnvironment: String?

    @Option(
        name: .customLong("token-command"),
        help: "Run this shell command for every exchange; its standard output is the subject token."
    )
    var tokenCommand: String?

    @Option(
        name: .customLong("gce-audience"),
        help: "Ask the GCE metadata server for an identity token with this audience (host: GCE_METADATA_HOST or metadata.google.internal)."
    )
    var gceAudience: String?

    @Option(
        name: .customLong("azure-resource"),
        help: "Ask Azure IMDS for a managed identity token for this resource (host: AZURE_POD_IDENTITY_AUTHORITY_HOST or 169.254.169.254)."
    )
    var azureResource: String?

    @Option(name: .customLong("azure-client-id"), help: "With --azure-resource: the client id of a user-assigned managed identity.")
    var azureClientID: String?

    @Option(
        name: .customLong("subject-token-type"),
        help: "The subject_token_type to send (default: the source's own, urn:ietf:params:oauth:token-type:jwt or …:id_token)."
    )
    var subjectTokenType: String?

    func validate() throws {
        let named = [tokenFile, tokenEnvironment, tokenCommand, gceAudience, azureResource].compactMap { $0 }.count
        guard named == 1 || (named == 0 && environment("WIF_TOKEN_FILE") != nil) else { throw Self.oneSource }
        if azureClientID != nil, azureResource == nil { throw ValidationError("--azure-client-id goes with --azure-resource") }
    }

    static let oneSource = ValidationError(
        "give exactly one subject token source: --token-file (or WIF_TOKEN_FILE), --token-env, --token-command, --gce-audience or --azure-resource"
    )

    /// The one provider the options name (``validate()`` made sure there is one).
    func provider(httpClient: HTTPClient) throws -> any SubjectTokenProvider {
        let type = subjectTokenType ?? TokenTypeURI.jwt
        var providers: [any SubjectTokenProvider] = []
        if let path = tokenFile { providers.append(FileTokenProvider(path: path, type: type)) }
        if let name = tokenEnvironment { providers.append(EnvironmentTokenProvider(name: name, type: type)) }
        if let command = tokenCommand { providers.append(CommandTokenProvider(command: command, type: type)) }
        if let audience = gceAudience { providers.append(GCEMetadataTokenProvider(audience: audience, httpClient: httpClient)) }
        if let resource = azureResource {
            providers.append(AzureIMDSTokenProvider(resource: resource, clientID: azureClientID, httpClient: httpClient))
        }
        if providers.isEmpty, let path = environment("WIF_TOKEN_FILE") { providers.append(FileTokenProvider(path: path, type: type)) }
        guard providers.count == 1, let provider = providers.first else { throw CommandFailure(Self.oneSource.message) }
        return provider
    }
}

/// What `wif exchange` and `wif whoami --url` ask the exchanger for.
struct TokenRequestOptions: ParsableArguments {
    @Option(name: .customLong("url"), help: "The exchanger's URL: its issuer URL, or its token endpoint (env WIF_URL).")
    var url: String?

    @Option(name: .customLong("audience"), help: "The audience to ask for (repeatable); default: the first of the policy's audiences.")
    var audience: [String] = []

    @Option(name: .customLong("scope"), help: "A scope to ask for (repeatable); default: the policy's default scopes.")
    var scope: [String] = []

    @Option(name: .customLong("resource"), help: "A resource URI to ask for (repeatable).")
    var resource: [String] = []

    @Option(name: .customLong("client-id"), help: "The client_id to send, when the policy names one.")
    var clientID: String?

    @Option(
        name: .customLong("ca-file"),
        help: "PEM certificates to trust for the exchanger's https, instead of the system's (env WIF_CA_FILE); e.g. a cluster-internal CA."
    )
    var caFile: String?

    var exchangerURL: String? { url ?? environment("WIF_URL") }

    /// Runs `body` with the HTTP client for the exchanger and the metadata servers, shut down after.
    func withHTTPClient<Result>(_ body: (HTTPClient) async throws -> Result) async throws -> Result {
        let client = try httpClient()
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// No redirects, 5 s to connect, trusting --ca-file when given.
    private func httpClient() throws -> HTTPClient {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5)))
        if let path = caFile ?? environment("WIF_CA_FILE") {
            let certificates: [NIOSSLCertificate]
            do {
                certificates = try NIOSSLCertificate.fromPEMFile(path)
            } catch {
                throw CommandFailure("--ca-file \(path): cannot read PEM certificates (\(error))")
            }
            guard !certificates.isEmpty else { throw CommandFailure("--ca-file \(path): holds no certificate") }
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(certificates)
            configuration.tlsConfiguration = tls
        }
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    var parameters: TokenRequestParameters {
        TokenRequestParameters(
            audiences: audience,
            resources: resource,
            scope: scope.isEmpty ? nil : scope.joined(separator: " "),
            clientID: clientID
        )
    }
}
