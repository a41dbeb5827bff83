import AsyncHTTPClient
import Foundation
import Testing
import WIFClient
import WIFCore
import WIFTesting

/// The client library against the real server: a real issuer, real signatures, real HTTP, and the server's
/// clock injected into the token source so that expiry can be reached without waiting.
@Suite struct TokenSourceTests {
    /// A token file in a fresh folder.
    final class TokenFile: Sendable {
        let folder: URL
        var path: String { folder.appendingPathComponent("token").path }

        init() throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("wif-client-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }

        func write(_ token: String) throws {
            try (token + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        }

        deinit { try? FileManager.default.removeItem(at: folder) }
    }

    static func source(
        _ harness: ExchangeHarness,
        subject: any SubjectTokenProvider,
        retry: RetryPolicy = RetryPolicy(attempts: 3, initialBackoff: .milliseconds(20), maximumBackoff: .milliseconds(100)),
        random: @escaping @Sendable () -> Double = { 0 }
    ) -> TokenSource {
        TokenSource(
            configuration: .init(
                exchanger: harness.baseURL,
                request: TokenRequestParameters(audiences: ["https://ledger.internal"]),
                retry: retry
            ),
            subject: subject,
            httpClient: harness.client,
            clock: harness.clock,
            random: random
        )
    }

    @Test func refreshesAheadOfExpiryAndServesTheCachedTokenUntilThen() async throws {
        try await ExchangeHarness.with { harness in
            let file = try TokenFile()
            try file.write(try harness.validToken())
            let source = Self.source(harness, subject: FileTokenProvider(path: file.path))
            let start = harness.clock.now()

            let first = try await source.token()
            // The policy grants 15 minutes; the margin is the smaller of 20% (3 min) and 5 min.
            #expect(first.expiresAt == start + 900)
            #expect(first.refreshAt == start + 720)
            #expect(first.scopes == ["ledger.read"])
            #expect(try await harness.verifiedClaims(first.value)["aud"] == "https://ledger.internal")

            harness.clock.advance(by: 700)
            #expect(try await source.token() == first)
            #expect(await source.exchanges == 1)

            // In the refresh window the caller still gets the valid token while one refresh runs.
            harness.clock.advance(by: 30)
            #expect(try await source.token() == first)
            let second = try await source.refresh()
            #expect(second != first)
            #expect(second.expiresAt == harness.clock.now() + 900)
            #expect(await source.exchanges == 2)
            #expect(try await source.token() == second)
            #expect(await source.exchanges == 2)
        }
    }

    @Test func aTokenAboutToExpireIsNeverHandedOut() async throws {
        try await ExchangeHarness.with { harness in
            let file = try TokenFile()
            try file.write(try harness.validToken())
            let source = Self.source(harness, subject: FileTokenProvider(path: file.path))
            let first = try await source.token()
            harness.clock.set(first.expiresAt - 5)
            let second = try await source.token()
            #expect(second != first)
            #expect(await source.exchanges == 2)
        }
    }

    @Test func aRefreshThatCannotExtendTheTokenPausesRefreshes() async throws {
        try await ExchangeHarness.with { harness in
            let file = try TokenFile()
            let now = harness.clock.now()
            // The subject token ends in 10 minutes, before the policy's 15: every token ends with it.
            try file.write(try harness.validToken(["exp": .number(now + 600)]))
            let source = Self.source(harness, subject: FileTokenProvider(path: file.path))
            let first = try await source.token()
            #expect(first.expiresAt == now + 600)
            harness.clock.set(first.refreshAt + 20)
            _ = try await source.token()
            let second = try await source.refresh()
            #expect(second.expiresAt == first.expiresAt)
            #expect(await source.exchanges == 2)
            // Its refresh time is past, but asking again would get the same expiry: callers get it as is.
            for _ in 0..<10 { #expect(try await source.token() == second) }
            #expect(await source.exchanges == 2)
            // After the pause (the retry policy's longest backoff), one more try.
            harness.clock.advance(by: 1)
            _ = try await source.token()
            _ = try await source.refresh()
            #expect(await source.exchanges == 3)
        }
    }

    @Test func aHundredConcurrentCallersShareOneExchange() async throws {
        try await ExchangeHarness.with { harness in
            let file = try TokenFile()
            try file.write(try harness.validToken())
            let source = Self.source(harness, subject: FileTokenProvider(path: file.path))
            let values = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<100 { group.addTask { try await source.token().value } }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(values.count == 1)
            #expect(await source.exchanges == 1)
            #expect(harness.audit.count == 1)
        }
    }

    @Test func backsOffOnUnavailableAndRecovers() async throws {
        try await ExchangeHarness.with { harness in
            let file = try TokenFile()
            try file.write(try harness.validToken())
            // No issuer keys can be fetched: the exchanger answers 503 temporarily_unavailable.
            harness.issuer.fail(with: 500)
            let source = Self.source(harness, subject: FileTokenProvider(path: file.path), random: { 1 })
            let started = ContinuousClock.now
            let error = await #expect(throws: WIFClientError.self) { try await source.token() }
            #expect(error?.kind == .unavailable)
            #expect(error?.status == 503)
            #expect(error?.oauthError == "temporarily_unavailable")
            #expect(error?.isRetryable == true)
            #expect(await source.exchanges == 3)
            // Full jitter with random = 1 waits the whole bound: 20 ms, then 40 ms.
            #expect(ContinuousClock.now - started >= .milliseconds(60))

            harness.issuer.fail(with: nil)
            harness.clock.advance(by: 10)  // past the key store's first backoff
            let token = try await source.token()
            #expect(!token.value.isEmpty)
            #expect(await source.exchanges == 4)
        }
    }

    @Test func retriesUntilTheExchangerRecovers() async throws {
        try await ExchangeHarness.with { harness in
            let file = try TokenFile()
            try file.write(try harness.validToken())
            harness.issuer.fail(with: 500)
            let source = Self.source(
                harness,
                subject: FileTokenProvider(path: file.path),
                retry: RetryPolicy(attempts: 5, initialBackoff: .milliseconds(300), maximumBackoff: .seconds(1)),
                random: { 1 }
            )
            let recovery = Task {
                // Once the first refusal is on record, the issuer comes back while the client backs off.
                while harness.audit.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
                harness.issuer.fail(with: nil)
                harness.clock.advance(by: 10)
            }
            let token = try await source.token()
            try await recovery.value
            #expect(!token.value.isEmpty)
            #expect(await source.exchanges == 2)
            #expect(harness.audit.map { $0["outcome"] } == ["denied", "granted"])
        }
    }

    @Test func neverRetriesADefinitiveRefusal() async throws {
        try await ExchangeHarness.with { harness in
            let file = try TokenFile()
            let now = harness.clock.now()
            try file.write(try harness.validToken(["iat": .number(now - 7200), "nbf": .number(now - 7200), "exp": .number(now - 3600)]))
            let source = Self.source(harness, subject: FileTokenProvider(path: file.path))
            let error = await #expect(throws: WIFClientError.self) { try await source.token() }
            #expect(error?.kind == .refused)
            #expect(error?.status == 400)
            // RFC 8693 §2.2.2 answers an invalid subject token with invalid_request (jwt-bearer: invalid_grant).
            #expect(error?.oauthError == "invalid_request")
            #expect(error?.errorDescription?.contains("expired") == true)
            #expect(error?.isRetryable == false)
            #expect(await source.exchanges == 1)
        }
    }

    @Test func readsTheTokenFileAnewForEveryExchange() async throws {
        try await ExchangeHarness.with { harness in
            let file = try TokenFile()
            try file.write(try harness.validToken())
            let source = Self.source(harness, subject: FileTokenProvider(path: file.path))
            let first = try await source.token()
            #expect(try await harness.verifiedClaims(first.value)["service_account"] == "api")

            // kubelet rotates the projected token; the next exchange sends the new one.
            try file.write(try harness.workloadToken(namespace: "payments", serviceAccount: "worker"))
            let second = try await source.refresh()
            #expect(try await harness.verifiedClaims(second.value)["service_account"] == "worker")
        }
    }

    @Test func keepsServingAValidTokenWhenARefreshFails() async throws {
        try await ExchangeHarness.with { harness in
            let file = try TokenFile()
            try file.write(try harness.validToken())
            let source = Self.source(harness, subject: FileTokenProvider(path: file.path))
            let first = try await source.token()
            try FileManager.default.removeItem(atPath: file.path)
            harness.clock.set(first.refreshAt + 1)

            let error = await #expect(throws: WIFClientError.self) { try await source.refresh() }
            #expect(error?.kind == .subjectToken)
            #expect(error?.message.contains(file.path) == true)
            #expect(try await source.token() == first)
            #expect(await source.exchanges == 1)

            // Once the token is too close to expiry, the failure reaches the caller.
            harness.clock.set(first.expiresAt)
            await #expect(throws: WIFClientError.self) { try await source.token() }
        }
    }

    @Test func gceMetadataServerTokensAreExchanged() async throws {
        try await ExchangeHarness.with { harness in
            let metadata = try await TestMetadataServer.start { audience in
                try harness.validToken(["aud": .string(audience)])
            }
            defer { Task { await metadata.stop() } }
            let provider = GCEMetadataTokenProvider(audience: "wif", httpClient: harness.client, environment: ["GCE_METADATA_HOST": metadata.host])
            #expect(provider.base == "http://" + metadata.host)
            let source = Self.source(harness, subject: provider)
            let token = try await source.token()
            #expect(try await harness.verifiedClaims(token.value)["namespace"] == "payments")
            #expect(metadata.requests == ["/computeMetadata/v1/instance/service-accounts/default/identity?audience=wif&format=full"])

            // A server that does not answer Metadata-Flavor: Google is not trusted for a token.
            metadata.actAsImpostor(true)
            let error = await #expect(throws: WIFClientError.self) { try await provider.subjectToken() }
            #expect(error?.message.contains("Metadata-Flavor") == true)
            #expect(error?.isRetryable == false)
        }
    }

    @Test func azureIMDSTokensAreExchangedAndItsStartupErrorsRetried() async throws {
        try await ExchangeHarness.with { harness in
            let metadata = try await TestMetadataServer.start { resource in
                try harness.validToken(["aud": .string(resource)])
            }
            defer { Task { await metadata.stop() } }
            // IMDS answers 410 and 5xx while it starts; both are retried.
            metadata.fail(next: [410, 503])
            let provider = AzureIMDSTokenProvider(
                resource: "wif",
                httpClient: harness.client,
                environment: ["AZURE_POD_IDENTITY_AUTHORITY_HOST": metadata.baseURL + "/"]
            )
            let source = Self.source(harness, subject: provider)
            let token = try await source.token()
            #expect(try await harness.verifiedClaims(token.value)["namespace"] == "payments")
            #expect(metadata.requests.count == 3)
            #expect(metadata.requests.last == "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=wif")
            #expect(await source.exchanges == 1)

            // A 400 from IMDS (no such identity) is definitive.
            metadata.fail(next: [400])
            let error = await #expect(throws: WIFClientError.self) { try await provider.subjectToken() }
            #expect(error?.status == 400)
            #expect(error?.isRetryable == false)
        }
    }

    @Test func commandAndEnvironmentProviders() async throws {
        let file = try TokenFile()
        try file.write("header.payload.signature")
        let command = CommandTokenProvider(command: "cat '\(file.path)'")
        #expect(try await command.subjectToken().value == "header.payload.signature")

        let failing = CommandTokenProvider(command: "echo 'no credentials' >&2; exit 3")
        let failed = await #expect(throws: WIFClientError.self) { try await failing.subjectToken() }
        #expect(failed?.message == "the subject token command exited with status 3: no credentials")

        let slow = CommandTokenProvider(command: "sleep 20", timeout: .milliseconds(200))
        let started = ContinuousClock.now
        let timedOut = await #expect(throws: WIFClientError.self) { try await slow.subjectToken() }
        #expect(timedOut?.message.contains("ran longer than") == true)
        #expect(ContinuousClock.now - started < .seconds(5))

        let environment = EnvironmentTokenProvider(name: "WIF_TEST_TOKEN", environment: ["WIF_TEST_TOKEN": " a.b.c\n"])
        #expect(try await environment.subjectToken().value == "a.b.c")
        let unset = EnvironmentTokenProvider(name: "WIF_TEST_TOKEN", environment: [:])
        let missing = await #expect(throws: WIFClientError.self) { try await unset.subjectToken() }
        #expect(missing?.message == "the environment variable WIF_TEST_TOKEN is not set")
        let empty = EnvironmentTokenProvider(name: "T", environment: ["T": " "])
        let emptyError = await #expect(throws: WIFClientError.self) { try await empty.subjectToken() }
        #expect(emptyError?.isRetryable == false, "an environment variable does not change")
        #expect(GCEMetadataTokenProvider(audience: "a", environment: ["GCE_METADATA_HOST": "http://10.0.0.1:8080/"]).base == "http://10.0.0.1:8080")
        let two = EnvironmentTokenProvider(name: "T", environment: ["T": "a.b.c d.e.f"])
        await #expect(throws: WIFClientError.self) { try await two.subjectToken() }
    }
}

/// The refresh and retry arithmetic, with fixed random numbers.
@Suite struct TokenSourcePolicyTests {
    @Test func refreshMarginIsTheSmallerOfAFifthAndFiveMinutesWithJitter() {
        let policy = RefreshPolicy()
        // 1 h: 5 minutes, plus up to half of that again.
        #expect(policy.refreshAt(obtainedAt: 0, expiresAt: 3600, random: 0) == 3300)
        #expect(policy.refreshAt(obtainedAt: 0, expiresAt: 3600, random: 1) == 3150)
        // 10 min: 2 minutes.
        #expect(policy.refreshAt(obtainedAt: 0, expiresAt: 600, random: 0) == 480)
        // A thousand workloads that started together spread over the jitter window.
        let times = Set((0..<1000).map { policy.refreshAt(obtainedAt: 0, expiresAt: 3600, random: Double($0) / 1000).rounded(.down) })
        #expect(times.count > 100)
        #expect(policy.refreshAt(obtainedAt: 100, expiresAt: 90, random: 0.5) == 100)
    }

    @Test func backoffDoublesToItsBoundAndHonoursRetryAfter() {
        let policy = RetryPolicy(attempts: 5, initialBackoff: .milliseconds(500), maximumBackoff: .seconds(4))
        #expect(policy.delay(after: 1, retryAfter: nil, random: 1) == .milliseconds(500))
        #expect(policy.delay(after: 2, retryAfter: nil, random: 1) == .seconds(1))
        #expect(policy.delay(after: 4, retryAfter: nil, random: 1) == .seconds(4))
        #expect(policy.delay(after: 40, retryAfter: nil, random: 1) == .seconds(4))
        #expect(policy.delay(after: 3, retryAfter: nil, random: 0.5) == .seconds(1))
        #expect(policy.delay(after: 1, retryAfter: 2, random: 0) == .seconds(2))
        #expect(policy.delay(after: 1, retryAfter: 60, random: 0) == .seconds(4))
    }

    @Test func exchangerURLNamesTheTokenEndpoint() {
        #expect(TokenSource.Configuration.tokenURL("https://wif.example.com") == "https://wif.example.com/token")
        #expect(TokenSource.Configuration.tokenURL("https://wif.example.com/") == "https://wif.example.com/token")
        #expect(TokenSource.Configuration.tokenURL("https://wif.example.com/token") == "https://wif.example.com/token")
        #expect(
            TokenSource.Configuration.tokenURL("https://login.example.com/tenant/oauth2/v2.0/token")
                == "https://login.example.com/tenant/oauth2/v2.0/token"
        )
    }

    @Test func errorsAreClassifiedByWhatRetryingCouldChange() {
        let body = Array(#"{"error":"invalid_grant","error_description":"subject token has expired"}"#.utf8)
        #expect(WIFClientError.answer(status: 400, body: body, retryAfter: nil).isRetryable == false)
        #expect(WIFClientError.answer(status: 503, body: [], retryAfter: 3).isRetryable)
        #expect(WIFClientError.answer(status: 429, body: [], retryAfter: 3).retryAfter == 3)
        let unavailable = Array(#"{"error":"temporarily_unavailable"}"#.utf8)
        #expect(WIFClientError.answer(status: 400, body: unavailable, retryAfter: nil).isRetryable)
        #expect(
            WIFClientError.answer(status: 400, body: body, retryAfter: nil).description
                == "the exchanger refused the request (HTTP 400): invalid_grant: subject token has expired"
        )
    }
}
