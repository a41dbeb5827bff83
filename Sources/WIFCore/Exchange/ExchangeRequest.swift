/// The grant shapes `/token` answers. Every one is parsed into the same ``ExchangeRequest`` and then runs
/// the same pipeline.
public enum GrantType: String, Sendable, Hashable {
    /// RFC 8693 token exchange.
    case tokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
    /// RFC 7523 JWT bearer assertion.
    case jwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    /// Client credentials with a JWT client assertion (RFC 7523 §2.2), as Entra workload identity sends it.
    case clientCredentials = "client_credentials"
}

/// RFC 8693 token type identifiers (§3).
public enum TokenTypeURI {
    public static let jwt = "urn:ietf:params:oauth:token-type:jwt"
    public static let idToken = "urn:ietf:params:oauth:token-type:id_token"
    public static let accessToken = "urn:ietf:params:oauth:token-type:access_token"
}

/// One token request, whatever grant shape it arrived in.
public struct ExchangeRequest: Sendable, Hashable {
    public var grantType: GrantType
    /// The workload's token (RFC 8693 `subject_token`).
    public var subjectToken: String
    /// `audience` values, in request order.
    public var audiences: [String]
    /// `resource` values, in request order.
    public var resources: [String]
    /// Requested scopes, or nil when the request named none.
    public var scopes: [String]?
    /// The token type identifier to put in `issued_token_type`.
    public var requestedTokenType: String

    public init(
        grantType: GrantType = .tokenExchange,
        subjectToken: String,
        audiences: [String] = [],
        resources: [String] = [],
        scopes: [String]? = nil,
        requestedTokenType: String = TokenTypeURI.accessToken
    ) {
        self.grantType = grantType
        self.subjectToken = subjectToken
        self.audiences = audiences
        self.resources = resources
        self.scopes = scopes
        self.requestedTokenType = requestedTokenType
    }

    /// The grant a form names, for choosing the error code even when the rest of the form is bad.
    public static func grantType(of form: FormBody) -> GrantType? {
        (try? form.value("grant_type")).flatMap { $0.flatMap(GrantType.init(rawValue:)) }
    }

    /// Parses a `/token` form body into a request.
    public init(form: FormBody) throws(ExchangeError) {
        let grantName = try form.required("grant_type")
        guard let grant = GrantType(rawValue: grantName) else {
            throw ExchangeError(.unsupportedGrantType, "grant_type is not supported")
        }
        switch grant {
        case .tokenExchange:
            let token = try form.required("subject_token")
            let tokenType = try form.required("subject_token_type")
            guard tokenType == TokenTypeURI.jwt || tokenType == TokenTypeURI.idToken else {
                throw ExchangeError(.unsupportedSubjectTokenType, "subject_token_type is not supported")
            }
            let requested = try form.value("requested_token_type") ?? TokenTypeURI.accessToken
            guard requested == TokenTypeURI.accessToken || requested == TokenTypeURI.jwt else {
                throw ExchangeError(.unsupportedRequestedTokenType, "requested_token_type is not supported")
            }
            let actorToken = try form.value("actor_token")
            let actorTokenType = try form.value("actor_token_type")
            if actorToken != nil || actorTokenType != nil {
                throw ExchangeError(.malformedForm, "actor_token is not supported by this server")
            }
            self.init(
                grantType: grant,
                subjectToken: token,
                audiences: form.values("audience"),
                resources: form.values("resource"),
                scopes: try Self.parseScope(form.value("scope")),
                requestedTokenType: requested
            )
        case .jwtBearer, .clientCredentials:
            throw ExchangeError(.unsupportedGrantType, "grant_type is not supported")
        }
    }

    /// Splits a `scope` parameter into scope tokens (RFC 6749 §3.3), refusing malformed ones.
    static func parseScope(_ scope: String?) throws(ExchangeError) -> [String]? {
        guard let scope else { return nil }
        let tokens = scope.split(separator: " ", omittingEmptySubsequences: false)
        let valid = tokens.allSatisfy { token in
            !token.isEmpty && token.utf8.allSatisfy { $0 == 0x21 || (0x23...0x5B).contains($0) || (0x5D...0x7E).contains($0) }
        }
        guard valid else { throw ExchangeError(.scopeMalformed, "scope is malformed") }
        return tokens.map(String.init)
    }
}
