import ExtrasBase64

/// The grant shapes `/token` answers. Every one is parsed into the same ``ExchangeRequest`` and then runs
/// the same pipeline.
public enum GrantType: String, Sendable, Hashable, CaseIterable {
    /// RFC 8693 token exchange.
    case tokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
    /// RFC 7523 JWT bearer assertion.
    case jwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    /// Client credentials with a JWT client assertion (RFC 7523 §2.2), as Entra workload identity sends it.
    case clientCredentials = "client_credentials"

    /// What this grant calls the workload's token, for error descriptions.
    public var tokenRole: ExchangeError.TokenRole {
        switch self {
        case .tokenExchange: .subjectToken
        case .jwtBearer: .assertion
        case .clientCredentials: .clientAssertion
        }
    }
}

/// RFC 8693 token type identifiers (§3).
public enum TokenTypeURI {
    public static let jwt = "urn:ietf:params:oauth:token-type:jwt"
    public static let idToken = "urn:ietf:params:oauth:token-type:id_token"
    public static let accessToken = "urn:ietf:params:oauth:token-type:access_token"
    /// The `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
    public static let jwtClientAssertion = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

    /// Token types wif accepts as `subject_token_type` and `actor_token_type`.
    public static let acceptedInputs = [jwt, idToken]
    /// Token types wif issues (`requested_token_type`); both name the same RFC 9068 JWT.
    public static let issued = [accessToken, jwt]
}

/// One token request, whatever grant shape it arrived in.
public struct ExchangeRequest: Sendable, Hashable {
    public var grantType: GrantType
    /// The workload's token: RFC 8693 `subject_token`, RFC 7523 `assertion` or `client_assertion`.
    public var subjectToken: String
    /// RFC 8693 `actor_token`: the party acting for the subject (delegation), if any.
    public var actorToken: String?
    /// `audience` values, in request order (for client credentials, also each `<audience>/.default` scope).
    public var audiences: [String]
    /// `resource` values, in request order; each an absolute URI without a fragment.
    public var resources: [String]
    /// Requested scopes, or nil when the request named none.
    public var scopes: [String]?
    /// The token type identifier to put in `issued_token_type`.
    public var requestedTokenType: String
    /// The `client_id` the client sent (form or HTTP Basic), if any. Never required; when sent it must be the
    /// admitting policy's client id.
    public var clientID: String?

    public init(
        grantType: GrantType = .tokenExchange,
        subjectToken: String,
        actorToken: String? = nil,
        audiences: [String] = [],
        resources: [String] = [],
        scopes: [String]? = nil,
        requestedTokenType: String = TokenTypeURI.accessToken,
        clientID: String? = nil
    ) {
        self.grantType = grantType
        self.subjectToken = subjectToken
        self.actorToken = actorToken
        self.audiences = audiences
        self.resources = resources
        self.scopes = scopes
        self.requestedTokenType = requestedTokenType
        self.clientID = clientID
    }

    /// The grant a form names, for choosing the error code even when the rest of the form is bad.
    public static func grantType(of form: FormBody) -> GrantType? {
        (try? form.value("grant_type")).flatMap { $0.flatMap(GrantType.init(rawValue:)) }
    }

    /// Parses a `/token` form body, and the request's `Authorization` header if it has one, into a request.
    /// Parameters wif does not use are ignored (RFC 6749 §3.2); singular ones may not repeat.
    public init(form: FormBody, authorization: String? = nil) throws(ExchangeError) {
        let grantName = try form.required("grant_type")
        guard let grant = GrantType(rawValue: grantName) else {
            throw ExchangeError(
                .unsupportedGrantType,
                "grant_type must be one of: " + GrantType.allCases.map(\.rawValue).joined(separator: ", ")
            )
        }
        let clientID = try Self.clientID(form: form, authorization: authorization)
        let resources = form.values("resource")
        guard resources.allSatisfy(Self.isAbsoluteURIWithoutFragment) else {
            throw ExchangeError(.resourceMalformed, "resource must be an absolute URI without a fragment")
        }
        var audiences = form.values("audience")
        var scopes = try Self.parseScope(form.value("scope"))
        var requested = TokenTypeURI.accessToken
        var actorToken: String?
        let token: String
        switch grant {
        case .tokenExchange:
            token = try Self.requiredToken(form, "subject_token")
            let tokenType = try form.required("subject_token_type")
            guard TokenTypeURI.acceptedInputs.contains(tokenType) else {
                throw ExchangeError(
                    .unsupportedSubjectTokenType,
                    "subject_token_type must be one of: " + TokenTypeURI.acceptedInputs.joined(separator: ", ")
                )
            }
            requested = try form.value("requested_token_type") ?? TokenTypeURI.accessToken
            guard TokenTypeURI.issued.contains(requested) else {
                throw ExchangeError(
                    .unsupportedRequestedTokenType,
                    "requested_token_type must be one of: " + TokenTypeURI.issued.joined(separator: ", ")
                )
            }
            actorToken = try form.value("actor_token").map(Self.trimmed).flatMap { $0.isEmpty ? nil : $0 }
            let actorTokenType = try form.value("actor_token_type")
            switch (actorToken, actorTokenType) {
            case (nil, nil): break
            case (.some, nil): throw .missing("actor_token_type")
            case (nil, .some): throw .missing("actor_token")
            case (.some, .some(let type)):
                guard TokenTypeURI.acceptedInputs.contains(type) else {
                    throw ExchangeError(
                        .unsupportedActorTokenType,
                        "actor_token_type must be one of: " + TokenTypeURI.acceptedInputs.joined(separator: ", ")
                    )
                }
            }
        case .jwtBearer:
            token = try Self.requiredToken(form, "assertion")
        case .clientCredentials:
            // The assertion is the client authentication: a second mechanism is refused (RFC 6749 §2.3).
            guard authorization == nil else {
                throw ExchangeError(.conflictingClientID, "use one client authentication: client_assertion, not also an Authorization header")
            }
            guard try form.required("client_assertion_type") == TokenTypeURI.jwtClientAssertion else {
                throw ExchangeError(.unsupportedAssertionType, "client_assertion_type must be \(TokenTypeURI.jwtClientAssertion)")
            }
            token = try Self.requiredToken(form, "client_assertion")
            // Entra clients ask for `<resource>/.default`: that resource as audience, with the default scopes.
            let resourceScopes = scopes?.filter { $0.hasSuffix(Self.defaultScopeSuffix) && $0.count > Self.defaultScopeSuffix.count } ?? []
            audiences += resourceScopes.map { String($0.dropLast(Self.defaultScopeSuffix.count)) }
            scopes = scopes.flatMap { all in
                let plain = all.filter { !resourceScopes.contains($0) }
                return plain.isEmpty ? nil : plain
            }
        }
        self.init(
            grantType: grant,
            subjectToken: Self.trimmed(token),
            actorToken: actorToken.map(Self.trimmed),
            audiences: audiences,
            resources: resources,
            scopes: scopes,
            requestedTokenType: requested,
            clientID: clientID
        )
    }

    /// The suffix of an Entra resource scope (`api://payments/.default`).
    static let defaultScopeSuffix = "/.default"

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

    /// A required token parameter, trimmed; one of only spaces and line breaks counts as omitted (RFC 6749
    /// §3.1 treats an empty value as omitted), so that it is a missing parameter whatever the grant, not a
    /// malformed token.
    static func requiredToken(_ form: FormBody, _ name: String) throws(ExchangeError) -> String {
        let token = trimmed(try form.required(name))
        guard !token.isEmpty else { throw .missing(name) }
        return token
    }

    /// A token as clients send a token file: surrounding spaces, tabs and line breaks are not part of it.
    static func trimmed(_ token: String) -> String {
        let isSpace: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        var scalars = Substring(token).unicodeScalars
        while let first = scalars.first, isSpace(first) { scalars.removeFirst() }
        while let last = scalars.last, isSpace(last) { scalars.removeLast() }
        return String(scalars)
    }

    /// The client id of a request: form `client_id` or HTTP Basic (RFC 6749 §2.3.1). wif has no client
    /// secrets, so a secret is refused rather than silently ignored.
    static func clientID(form: FormBody, authorization: String?) throws(ExchangeError) -> String? {
        let formID = try form.value("client_id")
        if try form.value("client_secret") != nil { throw .secretNotAccepted }
        guard let authorization else { return formID }
        let basic = try BasicCredentials(authorization)
        guard basic.secret.isEmpty else { throw .secretNotAccepted }
        guard let basicID = basic.id.isEmpty ? nil : basic.id else { return formID }
        if let formID, !formID.isCodePointEqual(to: basicID) {
            throw ExchangeError(.conflictingClientID, "client_id in the body differs from the one in the Authorization header")
        }
        return basicID
    }

    /// RFC 3986 absolute-URI without a fragment (RFC 8707 §2), printable ASCII only.
    static func isAbsoluteURIWithoutFragment(_ text: String) -> Bool {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex, !text.contains("#") else { return false }
        let scheme = text[..<colon]
        guard let first = scheme.unicodeScalars.first, ("a"..."z").contains(first) || ("A"..."Z").contains(first) else { return false }
        let schemeOK = scheme.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "+-.".unicodeScalars.contains($0)
        }
        let rest = text[text.index(after: colon)...]
        return schemeOK && !rest.isEmpty && !["javascript", "data"].contains(scheme.lowercased())
            && rest.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F }
    }
}

extension ExchangeError {
    static var secretNotAccepted: ExchangeError {
        ExchangeError(.clientSecretNotAccepted, "wif does not use client secrets: authenticate with the workload's token")
    }
}

/// `Authorization: Basic …` credentials (RFC 7617), each half form-urlencoded as RFC 6749 §2.3.1 asks.
struct BasicCredentials {
    let id: String
    let secret: String

    init(_ header: String) throws(ExchangeError) {
        let malformed = ExchangeError(.clientAuthenticationMalformed, "Authorization header must be HTTP Basic with a client_id")
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let decoded = try? Base64.decode(string: ExchangeRequest.trimmed(String(parts[1]))),
            let colon = decoded.firstIndex(of: UInt8(ascii: ":"))
        else { throw malformed }
        do {
            let pairs = try FormBody(parsing: Array("id=".utf8) + decoded[..<colon] + Array("&secret=".utf8) + decoded[(colon + 1)...]).pairs
            guard pairs.count == 2 else { throw malformed }
            id = pairs[0].value
            secret = pairs[1].value
        } catch {
            throw malformed
        }
    }
}
