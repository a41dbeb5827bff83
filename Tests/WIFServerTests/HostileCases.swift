import Crypto
import CryptoExtras
import Foundation
import NIOHTTP1
import WIFCore
import WIFServer
import WIFTesting

/// The tables of the hostile-input suite, by section of security-cases.md §2. Each name starts with the
/// case number there.
enum HostileCases {
    static let exchangeGrant = GrantType.tokenExchange.rawValue
    static let jwt = TokenTypeURI.jwt
    static let assertionType = TokenTypeURI.jwtClientAssertion

    /// A well-formed exchange of a valid token with `fields` replacing or adding form fields (given in order).
    static func valid(_ context: HostileContext, _ fields: [(String, String)]) throws -> HostileRequest {
        let token = try context.harness.validToken()
        return .form([("grant_type", exchangeGrant), ("subject_token_type", jwt), ("subject_token", token)] + fields)
    }

    // MARK: - 2.A Request shape

    static let requestShape: [HostileCase] =
        [
            .request("#1 GET /token with the token in the query", "method_not_allowed", status: 405) { context in
                let token = try context.harness.validToken()
                return HostileRequest(
                    method: .GET,
                    path: "/token?grant_type=\(exchangeGrant)&subject_token=\(token)",
                    contentType: nil,
                    body: "",
                    secrets: [token]
                )
            },
            .request("#1 PUT /token", "method_not_allowed", status: 405) { context in
                var request = try valid(context, [])
                request.method = .PUT
                return request
            },
            .request("#2 JSON body", "unsupported_media_type", status: 415) { context in
                let token = try context.harness.validToken()
                return HostileRequest(
                    contentType: "application/json",
                    body: #"{"grant_type":"\#(exchangeGrant)","subject_token":"\#(token)"}"#,
                    secrets: [token]
                )
            },
            .request("#2 multipart/form-data body", "unsupported_media_type", status: 415) { context in
                var request = try valid(context, [])
                request.contentType = "multipart/form-data; boundary=x"
                return request
            },
            .request("#2 no Content-Type", "unsupported_media_type", status: 415) { context in
                var request = try valid(context, [])
                request.contentType = nil
                return request
            },
            .request("#2 text/plain that looks like a form", "unsupported_media_type", status: 415) { context in
                var request = try valid(context, [])
                request.contentType = "text/plain"
                return request
            },
            .request("#3 grant_type missing", "missing_parameter") { context in
                .form([("subject_token_type", jwt), ("subject_token", try context.harness.validToken())])
            },
            .request("#3 grant_type empty", "missing_parameter") { context in
                .form([("grant_type", ""), ("subject_token_type", jwt), ("subject_token", try context.harness.validToken())])
            },
        ]
        + ["password", "authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:saml2-bearer", "x-grant", "TOKEN-EXCHANGE"].map {
            grant in
            HostileCase.request("#4 unsupported grant_type \(grant)", "unsupported_grant_type", error: "unsupported_grant_type") { context in
                .form([("grant_type", grant), ("subject_token_type", jwt), ("subject_token", try context.harness.validToken())])
            }
        } + [
            .request("#5 subject_token omitted", "missing_parameter") { _ in
                .form([("grant_type", exchangeGrant), ("subject_token_type", jwt)])
            },
            .request("#5 subject_token empty", "missing_parameter") { _ in
                .form([("grant_type", exchangeGrant), ("subject_token_type", jwt), ("subject_token", "")])
            },
            .request("#5 subject_token of only spaces and line breaks counts as omitted", "missing_parameter") { _ in
                .form([("grant_type", exchangeGrant), ("subject_token_type", jwt), ("subject_token", "  \n\t ")])
            },
            .request("#5 jwt-bearer assertion of only spaces counts as omitted", "missing_parameter") { _ in
                .form([("grant_type", GrantType.jwtBearer.rawValue), ("assertion", "   ")])
            },
            .request("#5 client_assertion of only spaces counts as omitted, not a bad client", "missing_parameter") { _ in
                .form([("grant_type", "client_credentials"), ("client_assertion_type", assertionType), ("client_assertion", " \r\n")])
            },
            .request("#10 actor_token of only spaces counts as omitted", "missing_parameter") { context in
                try valid(context, [("actor_token", "  "), ("actor_token_type", jwt)])
            },
            .request("#6 subject_token_type missing", "missing_parameter") { context in
                .form([("grant_type", exchangeGrant), ("subject_token", try context.harness.validToken())])
            },
        ]
        + [
            "urn:ietf:params:oauth:token-type:saml2", "urn:ietf:params:oauth:token-type:refresh_token",
            "urn:ietf:params:oauth:token-type:access_token", "urn:x:y",
        ].map { type in
            HostileCase.request("#7 subject_token_type \(type)", "unsupported_subject_token_type") { context in
                .form([("grant_type", exchangeGrant), ("subject_token_type", type), ("subject_token", try context.harness.validToken())])
            }
        } + [
            .request("#8 grant_type twice", "repeated_parameter") { context in
                try valid(context, [("grant_type", exchangeGrant)])
            },
            .request("#8 subject_token twice, valid first", "repeated_parameter") { context in
                try valid(context, [("subject_token", "e30.e30.e30")])
            },
            .request("#8 subject_token twice, hostile first", "repeated_parameter") { context in
                .form([
                    ("grant_type", exchangeGrant), ("subject_token", "e30.e30.e30"), ("subject_token_type", jwt),
                    ("subject_token", try context.harness.validToken()),
                ])
            },
            .request("#8 scope twice", "repeated_parameter") { context in
                try valid(context, [("scope", "ledger.read"), ("scope", "ledger.write")])
            },
            .request("#8 subject_token_type twice", "repeated_parameter") { context in
                try valid(context, [("subject_token_type", jwt)])
            },
            .request("#8 requested_token_type twice", "repeated_parameter") { context in
                try valid(context, [("requested_token_type", TokenTypeURI.accessToken), ("requested_token_type", TokenTypeURI.jwt)])
            },
            .request("#9 subject_token in the query and the body", "query_parameters_not_allowed") { context in
                var request = try valid(context, [])
                request.path = "/token?subject_token=abc"
                return request
            },
            .request("#10 actor_token without actor_token_type", "missing_parameter") { context in
                try valid(context, [("actor_token", try context.harness.workloadToken(namespace: "edge", serviceAccount: "gateway"))])
            },
            .request("#10 actor_token_type without actor_token", "missing_parameter") { context in
                try valid(context, [("actor_token_type", jwt)])
            },
        ]
        + [
            "urn:ietf:params:oauth:token-type:refresh_token", "urn:ietf:params:oauth:token-type:saml2",
            "urn:ietf:params:oauth:token-type:id_token",
        ].map { type in
            HostileCase.request("#11 requested_token_type \(type)", "unsupported_requested_token_type") { context in
                try valid(context, [("requested_token_type", type)])
            }
        } + [
            .request("#12 HTTP Basic plus client_assertion", "conflicting_client_id") { context in
                var request = HostileRequest.form([
                    ("grant_type", "client_credentials"), ("client_assertion_type", assertionType),
                    ("client_assertion", try context.harness.validToken()),
                ])
                request.headers = [("Authorization", "Basic cGF5bWVudHMtYXBpOg==")]
                return request
            },
            .request("#12 client_assertion twice", "repeated_parameter") { context in
                let token = try context.harness.validToken()
                return .form([
                    ("grant_type", "client_credentials"), ("client_assertion_type", assertionType), ("client_assertion", token),
                    ("client_assertion", token),
                ])
            },
            .request("#13 client_assertion_type of SAML", "unsupported_assertion_type") { context in
                .form([
                    ("grant_type", "client_credentials"), ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"),
                    ("client_assertion", try context.harness.validToken()),
                ])
            },
            .request("#13 client_credentials without client_assertion", "missing_parameter") { _ in
                .form([("grant_type", "client_credentials"), ("client_assertion_type", assertionType)])
            },
            .request("#14 a 100 KiB body", "body_too_large", status: 413) { context in
                try valid(context, [("padding", String(repeating: "p", count: 100 * 1024))])
            },
            .request("#15 %zz in the body", "malformed_form") { _ in
                HostileRequest(body: "grant_type=\(exchangeGrant)&subject_token=%zz")
            },
            .request("#15 % at the very end", "malformed_form") { _ in
                HostileRequest(body: "grant_type=\(exchangeGrant)&subject_token=abc%")
            },
            .request("#15 %4 followed by a non-hex character", "malformed_form") { _ in
                HostileRequest(body: "grant_type=\(exchangeGrant)&subject_token=%4g")
            },
            .request("#15 NUL byte (%00)", "malformed_form") { _ in
                HostileRequest(body: "grant_type=\(exchangeGrant)%00&subject_token=abc")
            },
            .request("#15 invalid UTF-8 after decoding (%FF)", "malformed_form") { _ in
                HostileRequest(body: "grant_type=\(exchangeGrant)&subject_token_type=\(jwt)&subject_token=%FF%FE")
            },
            .request("#15 overlong UTF-8 '/' (%C0%AF)", "malformed_form") { _ in
                HostileRequest(body: "grant_type=\(exchangeGrant)&subject_token_type=\(jwt)&subject_token=%C0%AF")
            },
            .request("#15 '+' inside the token decodes to a space", "token_malformed") { context in
                let token = try context.harness.validToken()
                let broken = token.prefix(20) + "+" + token.dropFirst(20)
                return HostileRequest(
                    body: "grant_type=\(exchangeGrant)&subject_token_type=\(FormEncoding.encode(jwt))&subject_token=\(broken)",
                    secrets: [String(token.split(separator: ".")[2])]
                )
            },
            .request("#15 a percent-encoded parameter name repeats subject_token", "repeated_parameter") { context in
                var request = try valid(context, [])
                request.body += "&subject%5Ftoken=e30.e30.e30"
                return request
            },
            .request("#15 %2B inside the token decodes to '+', outside base64url", "token_malformed") { context in
                let token = try context.harness.validToken()
                let broken = token.prefix(20) + "%2B" + token.dropFirst(21)
                return HostileRequest(
                    body: "grant_type=\(exchangeGrant)&subject_token_type=\(FormEncoding.encode(jwt))&subject_token=\(broken)",
                    secrets: [String(token.split(separator: ".")[2])]
                )
            },
            .request("#17 a client-sent X-Request-Id is neither echoed nor recorded", "missing_parameter") { _ in
                var request = HostileRequest.form([("subject_token_type", jwt)])
                request.headers = [("X-Request-Id", "evil-request-id\"\\{}")]
                request.secrets = ["evil-request-id"]
                return request
            },
            .request("#17 a scope with a quote, backslash and newline is not echoed", "scope_malformed", error: "invalid_scope") { context in
                try valid(context, [("scope", "ledger.read \"x\\y\n{\"outcome\":\"granted\"}")])
            },
        ]

    // MARK: - 2.B Token envelope and encoding

    static let envelope: [HostileCase] =
        [
            .token("#18 two segments", "token_malformed") { context in
                let parts = try context.harness.validToken().split(separator: ".")
                return parts[0] + "." + parts[1]
            },
            .token("#18 four segments", "token_malformed") { context in try context.harness.validToken() + ".e30" },
            .token("#18 five segments (a JWE)", "token_malformed") { _ in
                "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00iLCJ6aXAiOiJERUYifQ.AAAA.AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA"
            },
            .token("#18 a..c (empty payload)", "token_malformed") { context in
                let parts = try context.harness.validToken().split(separator: ".")
                return parts[0] + ".." + parts[2]
            },
            .token("#19 16,000 dots", "token_malformed") { _ in String(repeating: ".", count: 16_000) },
            .token("#19 60,000 dots: over the token cap, under the body cap", "token_too_large") { _ in String(repeating: ".", count: 60_000) },
            .token("#20 a 20 KiB token of valid shape", "token_too_large") { context in
                try context.claims(["padding": .string(String(repeating: "x", count: 20 * 1024))])
            },
            .token("#21 '+' and '/' from the standard alphabet", "token_malformed") { context in
                let token = try context.harness.validToken()
                return token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/") + "+/"
            },
            .token("#21 '=' padding on the signature", "token_malformed") { context in try context.harness.validToken() + "==" },
            .token("#21 '=' inside the header", "token_malformed") { context in
                let token = try context.harness.validToken()
                return String(token.prefix(8)) + "=" + token.dropFirst(8)
            },
            .token("#21 a space inside the payload", "token_malformed") { context in
                let parts = try context.harness.validToken().split(separator: ".")
                return parts[0] + "." + parts[1].prefix(10) + " " + parts[1].dropFirst(10) + "." + parts[2]
            },
            .token("#21 a line break inside the signature", "token_malformed") { context in
                let parts = try context.harness.validToken().split(separator: ".")
                return parts[0] + "." + parts[1] + "." + parts[2].prefix(10) + "\n" + parts[2].dropFirst(10)
            },
            .token("#22 non-canonical trailing bits in the RSA signature", "token_malformed") { context in
                // 256 bytes encode to 342 characters: the last carries 2 bits and 4 unused ones.
                let token = try context.harness.validToken()
                let last = token.last!
                let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
                let value = alphabet.firstIndex(of: last)!
                return token.dropLast() + String(alphabet[value | 0x01])
            },
        ]
        + [
            ("[]", "header is an array"), (#""x""#, "header is a string"), ("1", "header is a number"), ("null", "header is null"),
            (#"{"alg":"RS256","kid":"cluster-rsa-1"}x"#, "trailing garbage after the header"),
            (#"{"alg":"RS256","kid":"cluster-rsa-1"}{}"#, "two header objects"),
        ].map { text, name in
            HostileCase.token("#23 \(name)", "token_header_invalid") { context in try context.raw(header: Array(text.utf8)) }
        }
        + [("[]", "payload is an array"), ("null", "payload is null"), ("{}x", "trailing garbage after the payload")].map { text, name in
            HostileCase.token("#23 \(name)", "token_claims_invalid") { context in try context.raw(payload: Array(text.utf8)) }
        } + [
            .token("#24 invalid UTF-8 in a claim", "token_claims_invalid") { context in
                try context.raw(payload: context.payload(prefixing: "\"x\":\"\u{FFFD}\"").map { $0 == 0xEF ? 0xFF : $0 })
            },
            .token("#24 overlong UTF-8 in a claim", "token_claims_invalid") { context in
                try context.raw(payload: Array("{\"x\":\"".utf8) + [0xC0, 0xAF] + Array("\",".utf8) + context.payload().dropFirst())
            },
            .token("#24 lone surrogate escape", "token_claims_invalid") { context in
                try context.raw(payload: context.payload(prefixing: #""x":"\ud800""#))
            },
            .token("#24 UTF-8 byte-order mark before the header", "token_header_invalid") { context in
                try context.raw(header: [0xEF, 0xBB, 0xBF] + HostileContext.header())
            },
            .token("#24 UTF-8 byte-order mark before the payload", "token_claims_invalid") { context in
                try context.raw(payload: [0xEF, 0xBB, 0xBF] + context.payload())
            },
            .token("#25 payload nested 5,000 deep", "token_claims_invalid") { context in
                try context.raw(
                    payload: context.payload(prefixing: "\"x\":" + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000))
                )
            },
            .token("#25 payload nested 33 deep (one over the limit)", "token_claims_invalid") { context in
                try context.raw(payload: context.payload(prefixing: "\"x\":" + String(repeating: "[", count: 32) + String(repeating: "]", count: 32)))
            },
            .token("#25 header nested deep", "token_header_invalid") { context in
                try context.raw(
                    header: HostileContext.header(#""x":"# + String(repeating: "{\"a\":", count: 40) + "1" + String(repeating: "}", count: 40))
                )
            },
            .token("#26 alg twice (RS256 then none)", "token_header_invalid") { context in
                try context.raw(header: HostileContext.header(#""alg":"none""#))
            },
            .token("#26 kid twice", "token_header_invalid") { context in
                try context.raw(header: HostileContext.header(#""kid":"cluster-ec-1""#))
            },
            .token("#26 alg twice, one spelt with an escape", "token_header_invalid") { context in
                try context.raw(header: HostileContext.header(#""a\u006cg":"HS256""#))
            },
            .token("#27 sub twice", "token_claims_invalid") { context in
                try context.raw(payload: context.payload(prefixing: #""sub":"system:serviceaccount:kube-system:admin""#))
            },
            .token("#27 iss twice", "token_claims_invalid") { context in
                try context.raw(payload: context.payload(prefixing: #""iss":"https://attacker.test""#))
            },
            .token("#27 aud twice", "token_claims_invalid") { context in
                try context.raw(payload: context.payload(prefixing: #""aud":"wif""#))
            },
            .token("#27 a duplicate inside kubernetes.io", "token_claims_invalid") { context in
                var text = String(decoding: context.payload(), as: UTF8.self)
                text = text.replacingOccurrences(of: #""namespace":"payments""#, with: #""namespace":"kube-system","namespace":"payments""#)
                return try context.raw(payload: Array(text.utf8))
            },
            .token("#28 flattened JSON serialization", "token_malformed") { context in
                let parts = try context.harness.validToken().split(separator: ".")
                return #"{"protected":"\#(parts[0])","payload":"\#(parts[1])","signature":"\#(parts[2])"}"#
            },
            .token("#28 a JSON object smuggled before a compact token", "token_malformed") { context in
                #"{"payload":"e30"}"# + (try context.harness.validToken())
            },
            .token("#29 b64:false with crit", "token_header_unsupported") { context in
                try context.raw(header: HostileContext.header(#""b64":false,"crit":["b64"]"#))
            },
            .token("#29 b64:false without crit", "token_header_unsupported") { context in
                try context.raw(header: HostileContext.header(#""b64":false"#))
            },
        ]
        + [#"["urn:x"]"#, "[]", #""x""#, #"["x",1]"#, #"["alg"]"#, #"["exp"]"#].map { crit in
            HostileCase.token("#30 crit \(crit)", "token_header_unsupported") { context in
                try context.raw(header: HostileContext.header(#""crit":\#(crit)"#))
            }
        }
        + [#""zip":"DEF""#, #""enc":"A128GCM""#].map { member in
            HostileCase.token("#31 JWS header with \(member)", "token_header_unsupported") { context in
                try context.raw(header: HostileContext.header(member))
            }
        }

    // MARK: - 2.C Algorithm and key selection

    static let algorithms: [HostileCase] =
        ["none", "None", "NONE", "nOnE", "none ", "HS256", "RS256 ", "rs256", "ES512", ""].map { alg in
            HostileCase.token("#32 alg \"\(alg)\"", "algorithm_not_allowed") { context in
                try context.raw(header: HostileContext.header(alg: alg))
            }
        } + [
            .token("#32 alg none with an empty signature", "token_malformed") { context in
                try context.raw(header: HostileContext.header(alg: "none"), key: nil)
            },
            .token("#32 alg missing", "token_header_invalid") { context in
                try context.raw(header: Array(#"{"kid":"cluster-rsa-1","typ":"JWT"}"#.utf8))
            },
            .token("#32 alg as an array", "token_header_invalid") { context in
                try context.raw(header: Array(#"{"alg":["RS256"],"kid":"cluster-rsa-1"}"#.utf8))
            },
            .token("#32 alg null", "token_header_invalid") { context in
                try context.raw(header: Array(#"{"alg":null,"kid":"cluster-rsa-1"}"#.utf8))
            },
        ]
        + [
            ("HS256", "PEM"), ("HS384", "DER"), ("HS512", "JWK JSON"), ("HS256", "raw modulus"),
        ].map { alg, form in
            HostileCase.token("#33 \(alg) keyed with the issuer's public key as \(form)", "algorithm_not_allowed") { context in
                guard case .rsa(let key) = context.rsa.material else { return "" }
                let secret: [UInt8]
                switch form {
                case "PEM": secret = Array(key.publicKey.pemRepresentation.utf8)
                case "DER": secret = Array(key.publicKey.derRepresentation)
                case "JWK JSON": secret = context.rsa.publicJWK.serialized()
                default: secret = Array(try key.publicKey.getKeyPrimitives().modulus)
                }
                let input = Base64URL.encode(HostileContext.header(alg: alg)) + "." + Base64URL.encode(context.payload())
                return input + "." + Base64URL.encode(HostileMAC.mac(alg, key: secret, message: Array(input.utf8)))
            }
        } + [
            .token("#34 RS384 when the issuer allows RS256 and ES256", "algorithm_not_allowed") { context in
                try context.raw(header: HostileContext.header(alg: "RS384"), algorithm: .rs384)
            },
            .token("#34 PS256 with the issuer's RSA key", "algorithm_not_allowed") { context in
                try context.raw(header: HostileContext.header(alg: "PS256"), algorithm: .ps256)
            },
            .token("#34 ES384 header", "algorithm_not_allowed") { context in
                try context.raw(header: HostileContext.header(alg: "ES384", kid: "cluster-ec-1"), key: TestKey.p384(keyID: "cluster-ec-1"))
            },
            .token("#34 EdDSA header on the RSA kid", "algorithm_not_allowed") { context in
                try context.raw(header: HostileContext.header(alg: "EdDSA"), key: TestKey.ed25519(keyID: "cluster-rsa-1"))
            },
            .token("#34 ES256 header naming the RSA key", "algorithm_not_allowed", fetch: .initialOnly) { context in
                try context.raw(header: HostileContext.header(alg: "ES256"), key: context.ec)
            },
            .token("#34 RS256 header naming the P-256 key", "algorithm_not_allowed", fetch: .initialOnly) { context in
                try context.raw(header: HostileContext.header(alg: "RS256", kid: "cluster-ec-1"))
            },
            .token("#35 embedded jwk of the attacker's key, with its kid", "token_header_unsupported") { context in
                let attacker = SharedKeys.otherRSA
                let header = HostileContext.header(
                    kid: "attacker-rsa-1",
                    #""jwk":"# + String(decoding: attacker.publicJWK.serialized(), as: UTF8.self)
                )
                return try context.raw(header: header, key: attacker)
            },
            .token("#35 embedded jwk of the attacker's key, with the cluster's kid", "token_header_unsupported") { context in
                let attacker = SharedKeys.otherRSA
                let header = HostileContext.header(#""jwk":"# + String(decoding: attacker.publicJWK.serialized(), as: UTF8.self))
                return try context.raw(header: header, key: attacker)
            },
            .token("#36 jku to the attacker's JWKS", "token_header_unsupported", attacker: true) { context in
                let header = HostileContext.header(kid: "attacker-rsa-1", #""jku":"\#(context.attacker!.jwksURL)""#)
                return try context.raw(header: header, key: SharedKeys.otherRSA)
            },
            .token("#36 jku to the cloud metadata address", "token_header_unsupported") { context in
                try context.raw(header: HostileContext.header(#""jku":"http://169.254.169.254/latest/meta-data/jwks""#))
            },
            .token("#36 jku = the configured JWKS URL plus @attacker", "token_header_unsupported", attacker: true) { context in
                let jku = context.harness.issuer.jwksURL.replacingOccurrences(of: "http://", with: "http://x@") + "@" + context.attacker!.issuerURL
                return try context.raw(header: HostileContext.header(#""jku":"\#(jku)""#), key: SharedKeys.otherRSA)
            },
            .token("#37 x5c with the attacker's key", "token_header_unsupported") { context in
                guard case .rsa(let key) = SharedKeys.otherRSA.material else { return "" }
                let der = Base64URL.encode(Array(key.publicKey.derRepresentation))
                return try context.raw(header: HostileContext.header(#""x5c":["\#(der)"]"#), key: SharedKeys.otherRSA)
            },
            .token("#37 x5u to the attacker", "token_header_unsupported", attacker: true) { context in
                try context.raw(header: HostileContext.header(#""x5u":"\#(context.attacker!.issuerURL)/cert.pem""#), key: SharedKeys.otherRSA)
            },
        ]
        + [
            ("../../../../dev/null", "path traversal"), ("' UNION SELECT 'k' --", "SQL"), ("|id", "shell pipe"),
            ("cluster-rsa-1\r\nX-Injected: 1", "CR/LF"), ("\u{1B}[31mcluster-rsa-1", "ANSI escape"), ("cluster-rsa-1\u{0}", "NUL"),
            ("cluster-rsa-1 ", "trailing space"), ("CLUSTER-RSA-1", "another case"),
        ].map { kid, name in
            HostileCase.token("#38 kid with \(name)", "key_not_found", fetch: .initialOnly) { context in
                let header = JSONValue.object(["alg": "RS256", "kid": .string(kid), "typ": "JWT"]).serialized()
                return try context.raw(header: header)
            }
        } + [
            .token("#38 a 10 KB kid", "token_header_invalid") { context in
                try context.raw(header: HostileContext.header(kid: String(repeating: "k", count: 10_000)))
            },
            .token("#38 kid as a number", "token_header_invalid") { context in
                try context.raw(header: Array(#"{"alg":"RS256","kid":1}"#.utf8))
            },
            .token("#39 no kid while the issuer publishes two keys", "key_not_found", fetch: .initialOnly) { context in
                try context.raw(header: Array(#"{"alg":"RS256","typ":"JWT"}"#.utf8))
            },
            .token("#40 the cluster's iss signed by the attacker's key under the attacker's kid", "key_not_found", fetch: .initialOnly) { context in
                try context.raw(header: HostileContext.header(kid: "attacker-rsa-1"), key: SharedKeys.otherRSA)
            },
            .token("#40 the cluster's iss signed by the attacker's key under the cluster's kid", "signature_invalid", fetch: .initialOnly) {
                context in
                try context.raw(key: SharedKeys.otherRSA)
            },
            .token("#43 ECDSA r = 0, s = 0", "signature_invalid", fetch: .initialOnly) { context in
                context.resigned(try context.harness.validToken(key: context.ec), [UInt8](repeating: 0, count: 64))
            },
            .token("#43 ECDSA r = s = n", "signature_invalid", fetch: .initialOnly) { context in
                context.resigned(try context.harness.validToken(key: context.ec), BigEndian.p256Order + BigEndian.p256Order)
            },
            .token("#43 ECDSA r, s > n", "signature_invalid", fetch: .initialOnly) { context in
                context.resigned(try context.harness.validToken(key: context.ec), [UInt8](repeating: 0xFF, count: 64))
            },
            .token("#43 ECDSA r = 1, s = 1", "signature_invalid", fetch: .initialOnly) { context in
                let one = [UInt8](repeating: 0, count: 31) + [1]
                return context.resigned(try context.harness.validToken(key: context.ec), one + one)
            },
            .token("#44 DER-encoded ECDSA signature", "signature_invalid", fetch: .initialOnly) { context in
                let token = try context.harness.validToken(key: context.ec)
                let der = try P256.Signing.ECDSASignature(rawRepresentation: context.signature(of: token)).derRepresentation
                return context.resigned(token, Array(der))
            },
            .token("#44 ECDSA signature of 63 bytes", "signature_invalid", fetch: .initialOnly) { context in
                let token = try context.harness.validToken(key: context.ec)
                return context.resigned(token, Array(context.signature(of: token).dropFirst()))
            },
            .token("#44 ECDSA signature of 65 bytes", "signature_invalid", fetch: .initialOnly) { context in
                let token = try context.harness.validToken(key: context.ec)
                return context.resigned(token, [0] + context.signature(of: token))
            },
            .token("#44 ES512-sized signature (132 bytes)", "signature_invalid", fetch: .initialOnly) { context in
                let token = try context.harness.validToken(key: context.ec)
                return context.resigned(token, context.signature(of: token) + [UInt8](repeating: 0, count: 68))
            },
            .token("#46 RSA signature one byte short", "signature_invalid", fetch: .initialOnly) { context in
                let token = try context.harness.validToken()
                return context.resigned(token, Array(context.signature(of: token).dropFirst()))
            },
            .token("#46 RSA signature one byte long", "signature_invalid", fetch: .initialOnly) { context in
                let token = try context.harness.validToken()
                return context.resigned(token, [0] + context.signature(of: token))
            },
            .token("#46 RSA signature of zeros", "signature_invalid", fetch: .initialOnly) { context in
                context.resigned(try context.harness.validToken(), [UInt8](repeating: 0, count: 256))
            },
            .token("#46 RSA signature equal to the modulus", "signature_invalid", fetch: .initialOnly) { context in
                guard case .rsa(let key) = context.rsa.material else { return "" }
                return context.resigned(try context.harness.validToken(), Array(try key.publicKey.getKeyPrimitives().modulus))
            },
            .token("#46 RSA signature with one bit flipped", "signature_invalid", fetch: .initialOnly) { context in
                let token = try context.harness.validToken()
                var signature = context.signature(of: token)
                signature[100] ^= 0x01
                return context.resigned(token, signature)
            },
            .token("#46 signature of another payload (payload swapped)", "signature_invalid", fetch: .initialOnly) { context in
                let genuine = try context.harness.validToken().split(separator: ".")
                let forged = try context.harness.workloadToken(namespace: "kube-system", serviceAccount: "admin", key: context.rsa)
                    .split(separator: ".")
                return genuine[0] + "." + forged[1] + "." + genuine[2]
            },
        ]

    // MARK: - 2.C #47 #48 Weak, wrong or ambiguous keys in the issuer's JWKS (KEY-DROP)

    /// The cluster's RSA JWK with `changes` (nil removes a member).
    static func rsaJWK(_ changes: [String: JSONValue?]) -> JSONValue {
        var members = SharedKeys.issuerRSA.publicJWK.objectValue!
        for (name, value) in changes { members[name] = value }
        return .object(members)
    }

    /// Publishes `keys` beside one good key (so that the issuer stays usable: a set with no usable key at all
    /// is 503 `issuer_keys_unavailable`) and returns a token whose kid the bad keys name: every case is
    /// `key_not_found`, never `signature_invalid`, because the bad key is dropped at import.
    static func keySetCase(
        _ name: String,
        keys bad: [JSONValue],
        token: (@Sendable (HostileContext) throws -> String)? = nil
    ) -> HostileCase {
        .token(name, "key_not_found", fetch: .initialOnly) { context in
            let good = bad.contains { $0["kty"] == "EC" } ? SharedKeys.issuerRSA : SharedKeys.issuerEC
            context.harness.issuer.publish(rawJWKS: .object(["keys": .array(bad + [good.publicJWK])]))
            return try token?(context) ?? context.harness.validToken()
        }
    }

    static let weakRSA = TestKey(
        keyID: "weak-rsa",
        algorithm: .rs256,
        material: .rsa(try! _RSA.Signing.PrivateKey(unsafeKeySize: .init(bitCount: 1024)))
    )

    static let keySets: [HostileCase] = [
        keySetCase("#47 a 1024-bit RSA key, and a token it really signed", keys: [weakRSA.publicJWK]) { context in
            try TokenFactory.token(claims: context.harness.claims(), key: weakRSA)
        },
        keySetCase("#47 RSA public exponent 3", keys: [rsaJWK(["e": "Aw"])]),
        keySetCase("#47 RSA public exponent 1", keys: [rsaJWK(["e": "AQ"])]),
        keySetCase("#47 an even RSA public exponent", keys: [rsaJWK(["e": "AQAC"])]),
        keySetCase("#47 private key material in the JWKS", keys: [rsaJWK(["d": "AQAB"])]),
        keySetCase("#47 a symmetric (oct) key under the RSA kid", keys: [["kty": "oct", "kid": "cluster-rsa-1", "k": "c2VjcmV0"]]),
        keySetCase(
            "#47 an EC point off the curve",
            keys: {
                var members = SharedKeys.issuerEC.publicJWK.objectValue!
                var y = Base64URL.decode(members["y"]!.stringValue!)!
                y[31] ^= 0x01
                members["y"] = .string(Base64URL.encode(y))
                return [.object(members)]
            }()
        ) { context in try context.harness.validToken(key: context.ec) },
        keySetCase(
            "#47 a P-256 key published as P-384",
            keys: {
                var members = SharedKeys.issuerEC.publicJWK.objectValue!
                members["crv"] = "P-384"
                return [.object(members)]
            }()
        ) { context in try context.harness.validToken(key: context.ec) },
        keySetCase(
            "#48 two keys share the kid (the cluster's and the attacker's)",
            keys: [SharedKeys.issuerRSA.publicJWK, SharedKeys.otherRSA.with(keyID: "cluster-rsa-1").publicJWK]
        ),
        keySetCase("#48 the key is for encryption (use: enc)", keys: [rsaJWK(["use": "enc"])]),
        keySetCase("#48 key_ops without verify", keys: [rsaJWK(["key_ops": ["encrypt", "wrapKey"]])]),
        keySetCase("#48 the JWK pins an algorithm wif does not know", keys: [rsaJWK(["alg": "RSA-OAEP"])]),
        keySetCase("#48 the JWK pins HS256", keys: [rsaJWK(["alg": "HS256"])]),
        .token("#34 the JWK pins PS256, the token says RS256", "algorithm_not_allowed", fetch: .initialOnly) { context in
            context.harness.issuer.publish(rawJWKS: ["keys": [rsaJWK(["alg": "PS256"]), SharedKeys.issuerEC.publicJWK]])
            return try context.harness.validToken()
        },
    ]

    // MARK: - 2.D Time claims

    static let now = ExchangeHarness.now
    static let time: [HostileCase] =
        [
            .token("#49 expired beyond the leeway", "token_expired", fetch: .initialOnly) { context in
                try context.claims(["exp": .number(now - 61), "iat": .number(now - 3600), "nbf": .number(now - 3600)])
            },
            .token("#49 expired exactly at the leeway boundary", "token_expired", fetch: .initialOnly) { context in
                try context.claims(["exp": .number(now - 60), "iat": .number(now - 3600), "nbf": .number(now - 3600)])
            },
            .token("#50 nbf beyond the leeway", "token_not_yet_valid", fetch: .initialOnly) { context in
                try context.claims(["nbf": .number(now + 61)])
            },
            .token("#50 iat beyond the leeway", "token_not_yet_valid", fetch: .initialOnly) { context in
                try context.claims(["iat": .number(now + 61), "nbf": nil])
            },
            .token("#51 no exp", "token_claims_invalid", fetch: .initialOnly) { context in try context.claims(["exp": nil]) },
            .token("#51 legacy Secret-based service-account token", "issuer_not_trusted") { context in
                try context.raw(
                    payload: JSONValue.object([
                        "iss": "kubernetes/serviceaccount", "sub": "system:serviceaccount:payments:api",
                        "kubernetes.io/serviceaccount/namespace": "payments",
                    ]).serialized()
                )
            },
        ]
        + [
            ("exp", #""1800003600""#), ("exp", "true"), ("exp", "null"), ("exp", "[1800003600]"), ("exp", "{}"), ("nbf", #""1799999000""#),
            ("iat", "false"), ("nbf", "[]"),
        ].map { name, value in
            HostileCase.token("#52 \(name) as \(value)", "token_claims_invalid", fetch: .initialOnly) { context in
                try context.raw(payload: context.payload(replacing: name, with: value))
            }
        }
        + ["1e300", "9223372036854775808", "1.8e308", "-1", "0", "-0", "1e400", "32503680000"].map { value in
            HostileCase.token("#54 exp = \(value)", "token_claims_invalid", fetch: .initialOnly) { context in
                try context.raw(payload: context.payload(replacing: "exp", with: value))
            }
        } + [
            .token("#54 iat = -1e300", "token_claims_invalid", fetch: .initialOnly) { context in
                try context.claims(["iat": .number(-1e300)])
            },
            .token("#55 exp - iat beyond the issuer's 24 h", "token_lifetime_too_long", fetch: .initialOnly) { context in
                try context.claims(["exp": .number(now + 25 * 3600)])
            },
            .token("#56 past kubernetes.io warnafter", "token_expired", fetch: .initialOnly) { context in
                var claims = context.harness.claims().objectValue!
                var kubernetes = claims["kubernetes.io"]!.objectValue!
                kubernetes["warnafter"] = .number(now - 120)
                claims["kubernetes.io"] = .object(kubernetes)
                claims["iat"] = .number(now - 3700)
                claims["nbf"] = .number(now - 3700)
                claims["exp"] = .number(now - 3700 + 365 * 86400)
                return try context.raw(payload: JSONValue.object(claims).serialized())
            },
            .token("#86 less than a second left within the leeway", "token_expired", fetch: .initialOnly) { context in
                try context.claims(["exp": .number(now - 30), "iat": .number(now - 600), "nbf": .number(now - 600)])
            },
        ]

    // MARK: - 2.E Issuer, audience, subject, type

    static let issuerNearMisses: [(String, @Sendable (String) -> String)] = [
        ("trailing slash", { $0 + "/" }), ("upper-case scheme", { "HTTP" + $0.dropFirst(4) }),
        ("https instead of http", { "https" + $0.dropFirst(4) }), ("explicit path", { $0 + "/." }),
        ("percent-encoded host", { $0.replacingOccurrences(of: "127.0.0.1", with: "%31%32%37.0.0.1") }),
        ("zero-width joiner", { $0 + "\u{200D}" }), ("Cyrillic look-alike scheme", { "\u{0445}ttp" + $0.dropFirst(4) }),
        ("localhost for 127.0.0.1", { $0.replacingOccurrences(of: "127.0.0.1", with: "localhost") }),
    ]

    static let identity: [HostileCase] =
        issuerNearMisses.map { name, change in
            HostileCase.token("#57 iss near-miss: \(name)", "issuer_not_trusted") { context in
                try context.claims(["iss": .string(change(context.harness.issuer.issuerURL))])
            }
        } + [
            .token("#58 iss of an untrusted issuer that serves discovery", "issuer_not_trusted", attacker: true) { context in
                try context.claims(["iss": .string(context.attacker!.issuerURL)])
            },
            .token("#59 iss missing", "issuer_not_trusted") { context in try context.claims(["iss": nil]) },
            .token("#59 iss as an array", "token_claims_invalid") { context in
                try context.claims(["iss": .array([.string(context.harness.issuer.issuerURL)])])
            },
            .token("#59 iss null", "token_claims_invalid") { context in try context.claims(["iss": .null]) },
            .token("#60 aud missing", "audience_not_accepted", fetch: .initialOnly) { context in try context.claims(["aud": nil]) },
            .token("#61 aud of the Kubernetes API server", "audience_not_accepted", fetch: .initialOnly) { context in
                try context.claims(["aud": ["https://kubernetes.default.svc.cluster.local"]])
            },
            .token("#61 aud of another wif deployment", "audience_not_accepted", fetch: .initialOnly) { context in
                try context.claims(["aud": "wif-staging"])
            },
            .token("#61 aud differing in case", "audience_not_accepted", fetch: .initialOnly) { context in
                try context.claims(["aud": "WIF"])
            },
            .token("#62 aud []", "token_claims_invalid", fetch: .initialOnly) { context in try context.claims(["aud": .array([])]) },
            .token("#62 aud [\"\"]", "audience_not_accepted", fetch: .initialOnly) { context in try context.claims(["aud": [""]]) },
            .token("#62 aud [123]", "token_claims_invalid", fetch: .initialOnly) { context in try context.claims(["aud": [123]]) },
            .token("#62 aud as an object", "token_claims_invalid", fetch: .initialOnly) { context in try context.claims(["aud": ["x": 1]]) },
            .token("#62 aud null", "token_claims_invalid", fetch: .initialOnly) { context in try context.claims(["aud": .null]) },
            .token("#62 aud [\"wif\", {\"x\":1}]", "token_claims_invalid", fetch: .initialOnly) { context in
                try context.claims(["aud": ["wif", ["x": 1]]])
            },
            .token("#64 sub missing", "token_claims_invalid", fetch: .initialOnly) { context in try context.claims(["sub": nil]) },
            .token("#64 sub empty", "token_claims_invalid", fetch: .initialOnly) { context in try context.claims(["sub": ""]) },
            .token("#64 sub as a number", "token_claims_invalid", fetch: .initialOnly) { context in try context.claims(["sub": 42]) },
            .token("#64 sub as an array", "token_claims_invalid", fetch: .initialOnly) { context in
                try context.claims(["sub": ["system:serviceaccount:payments:api"]])
            },
            .token("#64 sub of 2 KB", "token_claims_invalid", fetch: .initialOnly) { context in
                try context.claims(["sub": .string(String(repeating: "s", count: 2048))])
            },
            .token("#17 #64 sub with a line break and a forged audit record", "token_claims_invalid", fetch: .initialOnly) { context in
                try context.claims(["sub": .string("system:serviceaccount:payments:api\n{\"outcome\":\"granted\"}")])
            },
            .token("#64 sub with an ANSI escape", "token_claims_invalid", fetch: .initialOnly) { context in
                try context.claims(["sub": .string("\u{1B}[2Jsystem:serviceaccount:payments:api")])
            },
            .token("#65 wif's own access token replayed", "issuer_not_trusted") { context in
                let first = try await context.harness.exchange(try context.harness.validToken())
                return first.body["access_token"]?.stringValue ?? "missing"
            },
            .token("#65 #66 an at+jwt from the trusted issuer", "token_type_not_accepted") { context in
                try context.raw(header: Array(#"{"alg":"RS256","kid":"cluster-rsa-1","typ":"at+jwt"}"#.utf8))
            },
        ]
        + ["secevent+jwt", "dpop+jwt", "logout+jwt", "JWE", "application/at+jwt", "JWT "].map { type in
            HostileCase.token("#66 typ \(type)", "token_type_not_accepted") { context in
                try context.raw(header: Array(#"{"alg":"RS256","kid":"cluster-rsa-1","typ":"\#(type)"}"#.utf8))
            }
        } + [
            .token("#66 typ as a number", "token_header_invalid") { context in
                try context.raw(header: Array(#"{"alg":"RS256","kid":"cluster-rsa-1","typ":1}"#.utf8))
            }
        ]

    // MARK: - 2.F Policy matching

    /// Policies with pattern traps, added to the harness's trust-config by the cases below.
    static let trapPolicies = """

          - name: glob-trap
            issuer: cluster
            conditions:
              - claim: sub
                glob: "system:serviceaccount:globs:app*"
            grant:
              audiences: [https://glob.internal]
              scopes: [glob]
          - name: regex-trap
            issuer: cluster
            conditions:
              - claim: sub
                regex: "system:serviceaccount:rx:main|system:serviceaccount:rx:develop"
            grant:
              audiences: [https://regex.internal]
              scopes: [regex]
        """

    static func withTrapPolicies(_ context: HostileContext) throws {
        let yaml = ExchangeHarness.trustConfigYAML(issuerURL: context.harness.issuer.issuerURL) + trapPolicies
        context.harness.live.replace(config: try TrustConfigLoader.load([.init(name: "test.yaml", contents: yaml)]))
    }

    static let policy: [HostileCase] =
        [
            ("system:serviceaccount:rx:main-x", "#68 unanchored alternation: a longer branch name"),
            ("x-system:serviceaccount:rx:develop", "#68 unanchored alternation: a prefix"),
            ("system:serviceaccount:rx:main\n", "#68 a trailing line break"),
            ("system:serviceaccount:globs:app-x:evil", "#70 glob crossing ':'"),
            ("system:serviceaccount:globs:app/evil", "#70 glob crossing '/'"),
            ("system:serviceaccount:globs:ap", "#70 glob shorter than its literal part"),
        ].map { subject, name in
            HostileCase.token(name, subject.contains("\n") ? "token_claims_invalid" : "no_policy_matched", fetch: .initialOnly) { context in
                try withTrapPolicies(context)
                return try context.harness.workloadToken(namespace: "traps", serviceAccount: "x", key: context.rsa, ["sub": .string(subject)])
            }
        } + [
            .token("#74 a top-level claim literally named kubernetes.io.namespace", "no_policy_matched", fetch: .initialOnly) { context in
                try context.claims(["kubernetes.io": nil, "kubernetes.io.namespace": "payments", "kubernetes.io.serviceaccount.name": "api"])
            },
            .token("#74 legacy flat kubernetes.io/serviceaccount/namespace", "no_policy_matched", fetch: .initialOnly) { context in
                try context.claims([
                    "kubernetes.io": nil, "kubernetes.io/serviceaccount/namespace": "payments",
                    "kubernetes.io/serviceaccount/service-account.name": "api",
                ])
            },
            .token("#75 namespace as an array holding the value", "no_policy_matched", fetch: .initialOnly) { context in
                try context.claims(["kubernetes.io": ["namespace": ["payments"], "serviceaccount": ["name": "api"]]])
            },
            .token("#75 service account name as a number", "no_policy_matched", fetch: .initialOnly) { context in
                try context.claims(["kubernetes.io": ["namespace": "payments", "serviceaccount": ["name": 1]]])
            },
            .token("#75 service account name as a boolean", "no_policy_matched", fetch: .initialOnly) { context in
                try context.claims(["kubernetes.io": ["namespace": "payments", "serviceaccount": ["name": true]]])
            },
        ]
        + [("Payments", "another case"), ("ｐａｙｍｅｎｔｓ", "fullwidth"), ("payments ", "a trailing space"), ("payments\u{200B}", "a zero-width space")].map
    {
        namespace,
        name in
        HostileCase.token("#76 namespace with \(name)", "no_policy_matched", fetch: .initialOnly) { context in
            try context.claims(["kubernetes.io": ["namespace": .string(namespace), "serviceaccount": ["name": "api"]]])
        }
    } + [
        .token(
            "#78 a payments/worker token asking for the billing policy's audience",
            "target_not_allowed",
            fetch: .initialOnly,
            error: "invalid_target",
            extra: [("audience", "api://payments")]
        ) { context in
            try context.harness.workloadToken(namespace: "payments", serviceAccount: "worker", key: context.rsa)
        }
    ]

    // MARK: - 2.G Grant semantics

    static let grant: [HostileCase] =
        [
            .token(
                "#80 an audience the policy does not grant",
                "target_not_allowed",
                fetch: .initialOnly,
                error: "invalid_target",
                extra: [("audience", "https://admin.internal")]
            ) {
                context in try context.harness.validToken()
            },
            .token(
                "#81 one of two audiences not granted",
                "target_not_allowed",
                fetch: .initialOnly,
                error: "invalid_target",
                extra: [("audience", "https://ledger.internal"), ("audience", "https://admin.internal")]
            ) { context in try context.harness.validToken() },
        ]
        + [
            "https://ledger.internal https://audit.internal", "https://ledger.internal,https://audit.internal",
            "https://ledger.internal\nhttps://audit.internal", "https://LEDGER.internal", "https://ledger.internal/",
        ].map { audience in
            HostileCase.token(
                "#82 audience \(audience.debugDescription)",
                "target_not_allowed",
                fetch: .initialOnly,
                error: "invalid_target",
                extra: [("audience", audience)]
            ) {
                context in try context.harness.validToken()
            }
        }
        + ["ledger", "https://ledger.internal#frag", "javascript:alert(1)", "data:text/plain,x", "://no-scheme", "https://a b"].map { resource in
            HostileCase.token(
                "#83 resource \(resource.debugDescription)",
                "resource_malformed",
                error: "invalid_target",
                extra: [("resource", resource)]
            ) {
                context in try context.harness.validToken()
            }
        } + [
            .token("#84 scope beyond the grant", "scope_not_allowed", fetch: .initialOnly, error: "invalid_scope", extra: [("scope", "admin")]) {
                context in try context.harness.validToken()
            },
            .token(
                "#84 one granted and one ungranted scope",
                "scope_not_allowed",
                fetch: .initialOnly,
                error: "invalid_scope",
                extra: [("scope", "ledger.read ledger.admin")]
            ) {
                context in try context.harness.validToken()
            },
        ]
        + ["ledger.read  ledger.write", "ledger.read\tledger.write", "ledger.\"read\"", "ledger.réad", " ledger.read", "ledger.read\u{0}"].map {
            scope in
            HostileCase.token(
                "#84 malformed scope \(scope.debugDescription)",
                scope.contains("\u{0}") ? "malformed_form" : "scope_malformed",
                error: scope.contains("\u{0}") ? "invalid_request" : "invalid_scope",
                extra: [("scope", scope)]
            ) { context in try context.harness.validToken() }
        } + [
            .token("#88 an actor the policy does not name", "actor_not_permitted", fetch: .initialOnly, extra: []) { context in
                try context.harness.validToken()
            }.withExtra { context in
                [("actor_token", try context.harness.workloadToken(namespace: "edge", serviceAccount: "intruder")), ("actor_token_type", jwt)]
            },
            .token("#88 a forged actor token", "signature_invalid", fetch: .initialOnly) { context in try context.harness.validToken() }.withExtra {
                context in
                [("actor_token", try context.raw(key: SharedKeys.otherRSA)), ("actor_token_type", jwt)]
            },
        ]

    // MARK: - The other grants share the pipeline: the token category follows the grant (D1)

    static let otherGrants: [HostileCase] = [
        HostileCase(
            name: "D1 jwt-bearer: alg none assertion",
            status: 400,
            error: "invalid_grant",
            reason: "algorithm_not_allowed",
            fetch: .none,
            usesAttacker: false
        ) {
            context in
            .form([("grant_type", GrantType.jwtBearer.rawValue), ("assertion", try context.raw(header: HostileContext.header(alg: "none")))])
        },
        HostileCase(
            name: "D1 jwt-bearer: expired assertion",
            status: 400,
            error: "invalid_grant",
            reason: "token_expired",
            fetch: .initialOnly,
            usesAttacker: false
        ) {
            context in
            .form([
                ("grant_type", GrantType.jwtBearer.rawValue),
                ("assertion", try context.claims(["exp": .number(now - 3600), "iat": .number(now - 7200), "nbf": nil])),
            ])
        },
        HostileCase(
            name: "D1 jwt-bearer: jku header",
            status: 400,
            error: "invalid_grant",
            reason: "token_header_unsupported",
            fetch: .none,
            usesAttacker: true
        ) {
            context in
            .form([
                ("grant_type", GrantType.jwtBearer.rawValue),
                ("assertion", try context.raw(header: HostileContext.header(#""jku":"\#(context.attacker!.jwksURL)""#))),
            ])
        },
        HostileCase(
            name: "D1 client_credentials: forged client assertion",
            status: 401,
            error: "invalid_client",
            reason: "signature_invalid",
            fetch: .initialOnly,
            usesAttacker: false
        ) {
            context in
            .form([
                ("grant_type", "client_credentials"), ("client_assertion_type", assertionType),
                ("client_assertion", try context.raw(key: SharedKeys.otherRSA)),
            ])
        },
        HostileCase(
            name: "D1 client_credentials: duplicate sub in the client assertion",
            status: 401,
            error: "invalid_client",
            reason: "token_claims_invalid",
            fetch: .none,
            usesAttacker: false
        ) {
            context in
            .form([
                ("grant_type", "client_credentials"), ("client_assertion_type", assertionType),
                ("client_assertion", try context.raw(payload: context.payload(prefixing: #""sub":"system:serviceaccount:payments:billing""#))),
            ])
        },
        HostileCase(
            name: "D1 client_credentials: untrusted issuer",
            status: 401,
            error: "invalid_client",
            reason: "issuer_not_trusted",
            fetch: .none,
            usesAttacker: true
        ) {
            context in
            .form([
                ("grant_type", "client_credentials"), ("client_assertion_type", assertionType),
                ("client_assertion", try context.claims(["iss": .string(context.attacker!.issuerURL)])),
            ])
        },
    ]
}

extension HostileCase {
    /// The same case with form fields computed from the context appended (for a second token).
    func withExtra(_ fields: @escaping @Sendable (HostileContext) async throws -> [(String, String)]) -> HostileCase {
        let build = self.build
        return HostileCase(name: name, status: status, error: error, reason: reason, fetch: fetch, usesAttacker: usesAttacker) { context in
            var request = try await build(context)
            let extra = try await fields(context)
            request.body += "&" + FormEncoding.body(extra)
            request.secrets += extra.flatMap { HostileRequest.secrets(of: $0.1) }
            return request
        }
    }
}
