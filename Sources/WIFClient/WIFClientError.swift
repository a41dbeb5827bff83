import WIFCore

/// Why a token could not be had, with what the exchanger said when it said something.
///
/// ``isRetryable`` is the one rule for what a ``TokenSource`` tries again: an exchanger or metadata server
/// that is down, overloaded (`temporarily_unavailable`, 429, 5xx) or unreachable is retried; a definitive
/// refusal (`invalid_grant`, `invalid_scope`, `invalid_target`, any other 4xx) never is, because asking
/// again with the same token gets the same answer and only adds load.
public struct WIFClientError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// The exchanger answered with an OAuth error that will not change on retry.
        case refused
        /// The exchanger answered that it cannot decide now (429, 5xx, `temporarily_unavailable`).
        case unavailable
        /// The exchanger could not be reached, or did not answer in time.
        case transport
        /// The exchanger answered something that is not a token response.
        case malformedResponse
        /// The subject token could not be had from its provider.
        case subjectToken
    }

    public let kind: Kind
    /// What went wrong, in one line, for logs and for people.
    public let message: String
    /// The HTTP status, when a server answered.
    public let status: Int?
    /// The OAuth `error` the exchanger sent.
    public let oauthError: String?
    /// The `error_description` the exchanger sent.
    public let errorDescription: String?
    /// Seconds the server asked to wait (`Retry-After`).
    public let retryAfter: Double?
    public let isRetryable: Bool

    public init(
        _ kind: Kind,
        _ message: String,
        status: Int? = nil,
        oauthError: String? = nil,
        errorDescription: String? = nil,
        retryAfter: Double? = nil,
        retryable: Bool? = nil
    ) {
        self.kind = kind
        self.message = message
        self.status = status
        self.oauthError = oauthError
        self.errorDescription = errorDescription
        self.retryAfter = retryAfter
        self.isRetryable = retryable ?? (kind == .unavailable || kind == .transport)
    }

    /// `the exchanger refused the token (HTTP 400): invalid_grant: subject token has expired (request …)`.
    public var description: String {
        var text = message
        if let status { text += " (HTTP \(status))" }
        if let oauthError { text += ": \(oauthError)" }
        if let errorDescription { text += ": \(errorDescription)" }
        return text
    }

    /// The exchanger's answer to a failed request, classified: `temporarily_unavailable`, 429 and 5xx are
    /// retryable; any other error is definitive.
    public static func answer(status: Int, body: [UInt8], retryAfter: Double?) -> WIFClientError {
        let fields = OAuthFields(body)
        let unavailable = status == 429 || status >= 500 || fields.error == "temporarily_unavailable"
        return WIFClientError(
            unavailable ? .unavailable : .refused,
            unavailable ? "the exchanger is unavailable" : "the exchanger refused the request",
            status: status,
            oauthError: fields.error,
            errorDescription: fields.description,
            retryAfter: retryAfter
        )
    }
}

/// `error` and `error_description` of an OAuth-shaped JSON body, when it is one.
struct OAuthFields {
    var error: String?
    var description: String?

    init(_ body: [UInt8]) {
        guard let json = try? JSONValue.parse(body) else { return }
        error = json["error"]?.stringValue.map { String($0.prefix(200)) }
        description = json["error_description"]?.stringValue.map { String($0.prefix(1000)) }
    }
}
