/// Why an exchange was refused or failed.
///
/// Compared by ``code``; carries a fixed, client-safe ``description`` (the `error_description`) and an
/// optional ``detail`` for the audit log only. ``OAuthErrorResponse/init(_:grant:)`` is the one place that
/// turns it into an OAuth error and HTTP status; docs/errors.md publishes that table.
public struct ExchangeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Every reason wif refuses a request, each with a stable name used in the audit log.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        // The HTTP request itself (REQ).
        case methodNotAllowed = "method_not_allowed"
        case unsupportedMediaType = "unsupported_media_type"
        case bodyTooLarge = "body_too_large"
        case requestTimeout = "request_timeout"
        case malformedForm = "malformed_form"
        case queryParametersNotAllowed = "query_parameters_not_allowed"
        case missingParameter = "missing_parameter"
        case repeatedParameter = "repeated_parameter"
        case unsupportedSubjectTokenType = "unsupported_subject_token_type"
        case unsupportedRequestedTokenType = "unsupported_requested_token_type"
        case unsupportedActorTokenType = "unsupported_actor_token_type"
        case unsupportedAssertionType = "unsupported_assertion_type"
        case conflictingClientID = "conflicting_client_id"
        case dryRunActorToken = "dry_run_actor_token"
        case unsupportedGrantType = "unsupported_grant_type"
        // Client authentication (CLI): wif has no client secrets; a client_id only has to agree with the policy.
        case clientAuthenticationMalformed = "client_authentication_malformed"
        case clientSecretNotAccepted = "client_secret_not_accepted"
        case clientIDMismatch = "client_id_mismatch"
        // The subject token (TOK).
        case tokenTooLarge = "token_too_large"
        case tokenMalformed = "token_malformed"
        case tokenHeaderInvalid = "token_header_invalid"
        case tokenClaimsInvalid = "token_claims_invalid"
        case tokenHeaderUnsupported = "token_header_unsupported"
        case tokenTypeNotAccepted = "token_type_not_accepted"
        case algorithmNotAllowed = "algorithm_not_allowed"
        case issuerNotTrusted = "issuer_not_trusted"
        case keyNotFound = "key_not_found"
        case signatureInvalid = "signature_invalid"
        case tokenExpired = "token_expired"
        case tokenNotYetValid = "token_not_yet_valid"
        case tokenLifetimeTooLong = "token_lifetime_too_long"
        case audienceNotAccepted = "audience_not_accepted"
        case noPolicyMatched = "no_policy_matched"
        case actorNotPermitted = "actor_not_permitted"
        // What was asked for (TGT, SCP).
        case targetNotAllowed = "target_not_allowed"
        case resourceMalformed = "resource_malformed"
        case scopeNotAllowed = "scope_not_allowed"
        case scopeMalformed = "scope_malformed"
        // Limits (429 and 503 with Retry-After).
        case rateLimited = "rate_limited"
        case overloaded = "overloaded"
        // Our side (UNAV, ERR).
        case issuerKeysUnavailable = "issuer_keys_unavailable"
        case signingKeyUnavailable = "signing_key_unavailable"
        case auditLogUnavailable = "audit_log_unavailable"
        case internalError = "internal_error"
    }

    /// How the OAuth error table groups the codes (security-cases.md §1.1).
    public enum Category: String, Sendable, Hashable {
        /// The request is malformed: `invalid_request`.
        case request
        /// The grant type is not one wif serves: `unsupported_grant_type`.
        case grantType
        /// Client authentication failed: 401 `invalid_client`.
        case client
        /// The subject token (or assertion) is invalid or unacceptable: depends on the grant.
        case token
        /// A refused audience or resource: `invalid_target`.
        case target
        /// A refused scope: `invalid_scope`.
        case scope
        /// Too many requests from this client or for this identity: 429 `temporarily_unavailable`.
        case rateLimited
        /// wif cannot decide now: 503 `temporarily_unavailable`.
        case unavailable
        /// Our own fault: 500 `server_error`.
        case server
    }

    public let code: Code
    /// The `error_description`: fixed ASCII chosen by wif, never echoing the request.
    public let description: String
    /// What happened in detail, for the audit log only.
    public let detail: String?
    /// Seconds the client should wait before retrying, when wif knows (a rate limit's refill time).
    public let retryAfter: Int?

    public init(_ code: Code, _ description: String, detail: String? = nil, retryAfter: Int? = nil) {
        self.code = code
        self.description = description
        self.detail = detail
        self.retryAfter = retryAfter
    }

    public static func == (lhs: ExchangeError, rhs: ExchangeError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    public var category: Category {
        switch code {
        case .methodNotAllowed, .unsupportedMediaType, .bodyTooLarge, .requestTimeout, .malformedForm, .queryParametersNotAllowed,
            .missingParameter, .repeatedParameter, .unsupportedSubjectTokenType, .unsupportedRequestedTokenType,
            .unsupportedActorTokenType, .unsupportedAssertionType, .conflictingClientID, .dryRunActorToken:
            .request
        case .unsupportedGrantType:
            .grantType
        case .clientAuthenticationMalformed, .clientSecretNotAccepted, .clientIDMismatch:
            .client
        case .tokenTooLarge, .tokenMalformed, .tokenHeaderInvalid, .tokenClaimsInvalid, .tokenHeaderUnsupported,
            .tokenTypeNotAccepted, .algorithmNotAllowed, .issuerNotTrusted, .keyNotFound, .signatureInvalid, .tokenExpired,
            .tokenNotYetValid, .tokenLifetimeTooLong, .audienceNotAccepted, .noPolicyMatched, .actorNotPermitted:
            .token
        case .targetNotAllowed, .resourceMalformed: .target
        case .scopeNotAllowed, .scopeMalformed: .scope
        case .rateLimited: .rateLimited
        case .issuerKeysUnavailable, .signingKeyUnavailable, .auditLogUnavailable, .overloaded: .unavailable
        case .internalError: .server
        }
    }

    /// The pipeline stage that refused, for the audit log.
    public var stage: String {
        switch category {
        case .request, .grantType: "request"
        case .client, .target, .scope: "grant"
        case .unavailable, .server: code == .overloaded ? "limit" : "internal"
        case .rateLimited: "limit"
        case .token:
            switch code {
            case .signatureInvalid, .keyNotFound: "signature"
            case .noPolicyMatched, .actorNotPermitted: "policy"
            case .tokenExpired, .tokenNotYetValid, .tokenLifetimeTooLong, .audienceNotAccepted, .tokenClaimsInvalid: "claims"
            default: "parse"
            }
        }
    }
}

extension ExchangeError {
    /// The same refusal, naming the token as the request called it. Token refusals are written about the
    /// "subject token"; a jwt-bearer request is told about its `assertion`, a client-credentials request
    /// about its `client_assertion`, and a delegation request which of its two tokens was refused.
    public func naming(_ token: TokenRole) -> ExchangeError {
        guard token != .subjectToken, category == .token, description.hasPrefix("subject token") else { return self }
        return ExchangeError(
            code,
            token.rawValue + description.dropFirst("subject token".count),
            detail: token == .actorToken ? "actor token: " + (detail ?? description) : detail
        )
    }

    /// The parameter names the workload's token arrives under.
    public enum TokenRole: String, Sendable {
        case subjectToken = "subject token"
        case actorToken = "actor token"
        case assertion = "assertion"
        case clientAssertion = "client assertion"
    }

    static func missing(_ parameter: String) -> ExchangeError {
        ExchangeError(.missingParameter, "missing required parameter: \(parameter)")
    }
    static func repeated(_ parameter: String) -> ExchangeError {
        ExchangeError(.repeatedParameter, "parameter included more than once: \(parameter)")
    }
    static func malformedToken(_ detail: String) -> ExchangeError {
        ExchangeError(.tokenMalformed, "subject token is not a well-formed compact JWS", detail: detail)
    }
    static func badHeader(_ detail: String) -> ExchangeError {
        ExchangeError(.tokenHeaderInvalid, "subject token header is invalid", detail: detail)
    }
    static func badClaims(_ detail: String) -> ExchangeError {
        ExchangeError(.tokenClaimsInvalid, "subject token claims are invalid", detail: detail)
    }
}
