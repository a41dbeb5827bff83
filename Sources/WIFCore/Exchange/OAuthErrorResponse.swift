/// The OAuth error an ``ExchangeError`` becomes (RFC 6749 §5.2, RFC 8693 §2.2.2, RFC 7523 §3.1–3.2).
///
/// This initializer is the single mapping from wif's reasons to OAuth `error` codes and HTTP statuses;
/// docs/errors.md is its published table.
public struct OAuthErrorResponse: Sendable, Hashable {
    public let status: Int
    public let error: String
    public let errorDescription: String
    /// Seconds for a `Retry-After` header, for 503 and 429 answers.
    public let retryAfter: Int?
    /// The `WWW-Authenticate` challenge every 401 carries (RFC 6749 §5.2).
    public var wwwAuthenticate: String? { status == 401 ? #"Basic realm="wif""# : nil }

    public init(_ failure: ExchangeError, grant: GrantType?) {
        errorDescription = failure.description
        switch failure.category {
        case .request:
            error = "invalid_request"
            switch failure.code {
            case .methodNotAllowed: status = 405
            case .bodyTooLarge: status = 413
            case .requestTimeout: status = 408
            case .unsupportedMediaType: status = 415
            default: status = 400
            }
            retryAfter = nil
        case .grantType:
            (status, error, retryAfter) = (400, "unsupported_grant_type", nil)
        case .client:
            (status, error, retryAfter) = (401, "invalid_client", nil)
        case .token:
            switch grant {
            case .jwtBearer: (status, error, retryAfter) = (400, "invalid_grant", nil)
            case .clientCredentials: (status, error, retryAfter) = (401, "invalid_client", nil)
            case .tokenExchange, nil: (status, error, retryAfter) = (400, "invalid_request", nil)
            }
        case .target:
            (status, error, retryAfter) = (400, "invalid_target", nil)
        case .scope:
            (status, error, retryAfter) = (400, "invalid_scope", nil)
        case .rateLimited:
            // security-cases.md D3: 429 with Retry-After and an OAuth-shaped body.
            (status, error, retryAfter) = (429, "temporarily_unavailable", max(1, failure.retryAfter ?? 1))
        case .unavailable:
            (status, error, retryAfter) = (503, "temporarily_unavailable", failure.retryAfter ?? 30)
        case .server:
            (status, error, retryAfter) = (500, "server_error", nil)
        }
    }

    /// The JSON body: `{"error": …, "error_description": …}`; with a request id, the description ends with
    /// `(request <id>)` so that a client's error report leads to the audit record of that decision.
    public func body(requestID: String? = nil) -> [UInt8] {
        let description = requestID.map { errorDescription + " (request \($0))" } ?? errorDescription
        return JSONValue.object(["error": .string(error), "error_description": .string(description)]).serialized()
    }
}
