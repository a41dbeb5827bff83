import AsyncHTTPClient
import NIOHTTP1
import Testing
import WIFCore
import WIFServer
import WIFTesting

/// `POST /token/dry-run`: off unless enabled; explains the decision for a verified token and issues nothing;
/// a token that does not verify learns nothing more than `/token` would tell it.
@Suite struct DryRunTests {
    static func ask(_ harness: ExchangeHarness, _ token: String, _ extra: [(String, String)] = []) async throws -> ExchangeHarness.Answer {
        let fields =
            [("grant_type", GrantType.tokenExchange.rawValue), ("subject_token_type", TokenTypeURI.jwt), ("subject_token", token)] + extra
        return try await harness.send(path: "/token/dry-run", body: ExchangeHarness.form(fields))
    }

    @Test func isOffByDefault() async throws {
        try await ExchangeHarness.with { harness in
            let answer = try await Self.ask(harness, try harness.validToken())
            #expect(answer.status == 404)
            #expect(answer.body["decision"] == nil)
        }
    }

    @Test func explainsAGrantWithoutIssuingAnything() async throws {
        try await ExchangeHarness.with(dryRun: true) { harness in
            let answer = try await Self.ask(harness, try harness.validToken(), [("audience", "https://ledger.internal"), ("scope", "ledger.write")])
            #expect(answer.status == 200)
            #expect(answer.headers["Cache-Control"] == ["no-store"])
            #expect(answer.body["verified"] == true)
            #expect(answer.body["decision"]?["granted"] == true)
            #expect(answer.body["decision"]?["policy"] == "payments-api")
            #expect(answer.body["decision"]?["scope"] == ["ledger.write"])
            #expect(answer.body["issued_token"]?["claims"]?["namespace"] == "payments")
            #expect(answer.body["policy"]?["status"] == "granted")
            #expect(answer.body["subject"]?["sub"] == "system:serviceaccount:payments:api")
            #expect(!answer.text.contains("access_token"))
            #expect(harness.audit.isEmpty)
        }
    }

    @Test func explainsARefusalOfAVerifiedToken() async throws {
        try await ExchangeHarness.with(dryRun: true) { harness in
            let token = try harness.workloadToken(namespace: "payments", serviceAccount: "api")
            let answer = try await Self.ask(harness, token, [("audience", "https://elsewhere.internal")])
            #expect(answer.status == 200)
            #expect(answer.body["decision"]?["granted"] == false)
            #expect(answer.body["decision"]?["oauth_error"] == "invalid_target")
            #expect(answer.body["policy"]?["policy"] == "payments-api")
            #expect(answer.body["policy"]?["status"] == "refused")
            // Only that policy: the issuer's others stay unnamed.
            for other in ["billing", "release-bot", "payments-next"] { #expect(!answer.text.contains(other)) }
        }
    }

    @Test func aTokenThatDoesNotVerifyGetsTheTokenEndpointsRefusalOnly() async throws {
        try await ExchangeHarness.with(dryRun: true) { harness in
            // Signed by a key the issuer does not publish, under the issuer's key id.
            let forged = try harness.validToken(key: try TestKey.rsa(keyID: SharedKeys.issuerRSA.keyID))
            let answer = try await Self.ask(harness, forged, [("audience", "https://ledger.internal")])
            let exchanged = try await harness.exchange(forged, [("audience", "https://ledger.internal")])
            #expect(answer.status == exchanged.status)
            #expect(answer.body["error"] == exchanged.body["error"])
            #expect(answer.body["error"] == "invalid_request")
            #expect(answer.body["policy"] == nil)
            #expect(answer.body["decision"] == nil)
            #expect(!answer.text.contains("payments-api"))
        }
    }

    @Test func sharesTheTokenEndpointsRateLimits() async throws {
        var limits = RequestLimitSettings()
        limits.perClient = RateLimit(perSecond: 0.001, burst: 2)
        try await ExchangeHarness.with(dryRun: true, limits: limits) { harness in
            let token = try harness.validToken()
            #expect(try await Self.ask(harness, token).status == 200)
            #expect(try await harness.exchange(token).status == 200)
            // The client's two requests are spent, by /token and the dry run together.
            let limited = try await Self.ask(harness, token)
            #expect(limited.status == 429)
            #expect(limited.body["error"] == "temporarily_unavailable")
            #expect(limited.headers["Retry-After"].first != nil)
            #expect(limited.body["decision"] == nil)
        }
    }

    @Test func refusesAnActorToken() async throws {
        try await ExchangeHarness.with(dryRun: true) { harness in
            let actor = try harness.workloadToken(namespace: "edge", serviceAccount: "gateway")
            let answer = try await Self.ask(
                harness,
                try harness.validToken(),
                [("actor_token", actor), ("actor_token_type", TokenTypeURI.jwt), ("audience", "https://ledger.internal")]
            )
            #expect(answer.status == 400)
            #expect(answer.body["error"] == "invalid_request")
            #expect(answer.body["error_description"]?.stringValue?.hasPrefix("a dry run takes no actor_token") == true)
        }
    }
}
