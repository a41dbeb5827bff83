/// The `/token` form parameters of a request other than the token itself, as `wif explain` options and
/// `wif test` cases give them. ``form(token:)`` writes the form body the server would receive, so that the
/// request is parsed by the server's own ``ExchangeRequest/init(form:authorization:)``.
public struct TokenRequestParameters: Sendable, Hashable {
    /// `grant_type`; nil is RFC 8693 token exchange.
    public var grantType: String?
    public var audiences: [String]
    public var resources: [String]
    /// The `scope` parameter exactly as sent (space-separated), or nil for none.
    public var scope: String?
    public var clientID: String?
    public var requestedTokenType: String?
    /// `subject_token_type` for token exchange; nil is `urn:ietf:params:oauth:token-type:jwt`.
    public var subjectTokenType: String?

    public init(
        grantType: String? = nil,
        audiences: [String] = [],
        resources: [String] = [],
        scope: String? = nil,
        clientID: String? = nil,
        requestedTokenType: String? = nil,
        subjectTokenType: String? = nil
    ) {
        self.grantType = grantType
        self.audiences = audiences
        self.resources = resources
        self.scope = scope
        self.clientID = clientID
        self.requestedTokenType = requestedTokenType
        self.subjectTokenType = subjectTokenType
    }

    /// The form body carrying `token` in the parameter its grant type uses: `subject_token`, `assertion`,
    /// or `client_assertion`.
    public func form(token: String) -> FormBody {
        let grant = grantType ?? GrantType.tokenExchange.rawValue
        var pairs: [(name: String, value: String)] = [("grant_type", grant)]
        switch GrantType(rawValue: grant) {
        case .jwtBearer?:
            pairs.append(("assertion", token))
        case .clientCredentials?:
            pairs.append(("client_assertion_type", TokenTypeURI.jwtClientAssertion))
            pairs.append(("client_assertion", token))
        case .tokenExchange?, nil:
            pairs.append(("subject_token", token))
            pairs.append(("subject_token_type", subjectTokenType ?? TokenTypeURI.jwt))
            if let requestedTokenType { pairs.append(("requested_token_type", requestedTokenType)) }
        }
        pairs += audiences.map { ("audience", $0) }
        pairs += resources.map { ("resource", $0) }
        if let scope { pairs.append(("scope", scope)) }
        if let clientID { pairs.append(("client_id", clientID)) }
        return FormBody(pairs: pairs)
    }

    /// The request the server would parse from this form, or the refusal it would answer with.
    public func request(token: String) -> Result<ExchangeRequest, ExchangeError> {
        do {
            return .success(try ExchangeRequest(form: form(token: token)))
        } catch {
            return .failure(error)
        }
    }

    /// The token and the other parameters of a `/token` form, checked as the token endpoint checks them:
    /// the inverse of ``form(token:)``. A form with an `actor_token` is refused: these parameters describe
    /// a request without one.
    public static func parse(_ form: FormBody) throws(ExchangeError) -> (token: String, parameters: TokenRequestParameters) {
        let request = try ExchangeRequest(form: form)
        guard request.actorToken == nil else {
            throw ExchangeError(.dryRunActorToken, "a dry run takes no actor_token: it shows the subject token's own decision")
        }
        let parameters = TokenRequestParameters(
            grantType: try form.value("grant_type"),
            audiences: form.values("audience"),
            resources: form.values("resource"),
            scope: try form.value("scope"),
            clientID: try form.value("client_id"),
            requestedTokenType: try form.value("requested_token_type"),
            subjectTokenType: try form.value("subject_token_type")
        )
        return (request.subjectToken, parameters)
    }

    /// `{"grant_type", "audience", "resource", "scope", "client_id", "requested_token_type"}`.
    public var json: JSONValue {
        [
            "grant_type": .string(grantType ?? GrantType.tokenExchange.rawValue),
            "audience": .array(audiences.map(JSONValue.string)),
            "resource": .array(resources.map(JSONValue.string)),
            "scope": scope.map(JSONValue.string) ?? .null,
            "client_id": clientID.map(JSONValue.string) ?? .null,
            "requested_token_type": requestedTokenType.map(JSONValue.string) ?? .null,
        ]
    }
}
