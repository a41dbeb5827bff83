import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Prometheus
import Synchronization
import Testing
import WIFCore
import WIFServer
import WIFSources
import WIFTesting

@Suite("Token buckets with an injected clock")
struct TokenBucketLimiterTests {
    final class ManualClock: Sendable {
        let seconds = Mutex<Double>(1000)
        func advance(_ by: Double) { seconds.withLock { $0 += by } }
        var read: @Sendable () -> Double { { self.seconds.withLock { $0 } } }
    }

    @Test("a bucket admits its burst, then refuses with the wait until the next token, then refills at the rate")
    func burstAndRefill() {
        let clock = ManualClock()
        let limiter = TokenBucketLimiter(rate: RateLimit(perSecond: 2, burst: 3), clock: clock.read)
        #expect((0..<3).map { _ in limiter.take("a") } == [nil, nil, nil])
        #expect(limiter.take("a") == 0.5)
        #expect(limiter.take("b") == nil, "another key has its own bucket")
        clock.advance(0.5)
        #expect(limiter.take("a") == nil)
        #expect(limiter.take("a") != nil)
        clock.advance(100)
        #expect((0..<3).map { _ in limiter.take("a") } == [nil, nil, nil], "refills to the burst, never beyond")
        #expect(limiter.take("a") != nil)
    }

    @Test("a clock stepping backwards neither refills nor traps")
    func clockBackwards() {
        let clock = ManualClock()
        let limiter = TokenBucketLimiter(rate: RateLimit(perSecond: 1, burst: 1), clock: clock.read)
        #expect(limiter.take("a") == nil)
        clock.advance(-3600)
        #expect(limiter.take("a") != nil)
        clock.advance(3601)
        #expect(limiter.take("a") == nil)
    }

    @Test("memory is bounded: a flood of distinct keys keeps at most maxKeys buckets")
    func bounded() {
        let clock = ManualClock()
        let limiter = TokenBucketLimiter(rate: RateLimit(perSecond: 1, burst: 5), maxKeys: 100, clock: clock.read)
        for index in 0..<10_000 { _ = limiter.take("client-\(index)") }
        #expect(limiter.trackedKeys <= 100)
        // Once the flood's buckets have refilled they are the first to go: a key that was just limited stays.
        clock.advance(10)
        for _ in 0..<5 { _ = limiter.take("heavy") }
        for index in 0..<60 { _ = limiter.take("other-\(index)") }
        #expect(limiter.take("heavy") != nil)
    }

    @Test("off admits everything and tracks nothing")
    func off() {
        let limiter = TokenBucketLimiter(rate: .off, clock: { 0 })
        for _ in 0..<100 { #expect(limiter.take("a") == nil) }
        #expect(limiter.trackedKeys == 0)
    }

    @Test(
        "rates parse as RATE/BURST, RATE or off",
        arguments: [
            ("20/100", RateLimit(perSecond: 20, burst: 100)), ("0.5/2", RateLimit(perSecond: 0.5, burst: 2)),
            ("5", RateLimit(perSecond: 5, burst: 5)), ("0.2", RateLimit(perSecond: 0.2, burst: 1)), ("off", RateLimit.off),
        ]
    )
    func parsing(_ text: String, _ expected: RateLimit) {
        #expect(RateLimit(parsing: text) == expected)
    }

    @Test("malformed rates are refused", arguments: ["", "/", "x", "-1/5", "5/0", "5/-1", "nan/2", "inf", "1/2/3", "5/1.5"])
    func malformed(_ text: String) {
        #expect(RateLimit(parsing: text) == nil)
    }

    @Test("the concurrency cap admits up to its limit and frees on leave")
    func concurrency() {
        let cap = ConcurrencyLimiter(limit: 2)
        #expect(cap.tryEnter() && cap.tryEnter())
        #expect(!cap.tryEnter())
        cap.leave()
        #expect(cap.tryEnter())
        #expect(cap.current == 2)
    }
}

@Suite("Rate limits and the concurrency cap over real HTTP")
struct RateLimitTests {
    static func limits(client: RateLimit = .off, subject: RateLimit = .off, concurrency: Int = 0) -> RequestLimitSettings {
        var limits = RequestLimitSettings()
        limits.perClient = client
        limits.perSubject = subject
        limits.maxConcurrentRequests = concurrency
        return limits
    }

    @Test("per identity: the heavy subject gets 429 with Retry-After, another subject is unaffected, refill restores it")
    func perSubject() async throws {
        let registry = PrometheusCollectorRegistry()
        try await ExchangeHarness.with(metrics: registry, limits: Self.limits(subject: RateLimit(perSecond: 0.5, burst: 2))) { harness in
            let token = try harness.validToken()
            for _ in 0..<2 { _ = try await harness.issuedClaims(try await harness.exchange(token)) }
            harness.auditBox.lines.withLock { $0.removeAll() }
            let limited = try await harness.exchange(token)
            let record = harness.expectRefusal(
                limited,
                status: 429,
                error: "temporarily_unavailable",
                description: "too many requests: retry later",
                reason: "rate_limited"
            )
            #expect(limited.headers["Retry-After"].first == "2")
            #expect(record?["stage"] == "limit")
            #expect(record?["subject"] == "system:serviceaccount:payments:api", "the limited identity is named in the audit log")
            #expect(record?["issuer"] == "cluster")

            let other = try harness.workloadToken(namespace: "payments", serviceAccount: "worker", key: SharedKeys.issuerRSA)
            _ = try await harness.issuedClaims(try await harness.exchange(other))

            harness.clock.advance(by: 2)
            _ = try await harness.issuedClaims(try await harness.exchange(token))
            #expect(try await harness.exchange(token).status == 429)

            let metrics = String(decoding: registry.emitToBuffer(), as: UTF8.self)
            #expect(metrics.contains(#"wif_rate_limited_total{limit="subject"} 2"#), "\(metrics)")
            #expect(metrics.contains(#"error="rate_limited""#))
        }
    }

    @Test("per client address: refused before the body is read, with no key fetch")
    func perClient() async throws {
        let registry = PrometheusCollectorRegistry()
        try await ExchangeHarness.with(metrics: registry, limits: Self.limits(client: RateLimit(perSecond: 1, burst: 3))) { harness in
            for _ in 0..<3 {
                #expect(try await harness.send(body: "grant_type=password").status == 400)
            }
            harness.auditBox.lines.withLock { $0.removeAll() }
            let limited = try await harness.exchange(try harness.validToken())
            let record = harness.expectRefusal(limited, status: 429, error: "temporarily_unavailable", reason: "rate_limited")
            #expect(limited.headers["Retry-After"].first == "1")
            #expect(record?["client_address"] == "127.0.0.1")
            #expect(record?["subject"] == nil)
            #expect(harness.issuer.hits.isEmpty, "a limited request is not even parsed")
            #expect(String(decoding: registry.emitToBuffer(), as: UTF8.self).contains(#"wif_rate_limited_total{limit="client"} 1"#))
            harness.clock.advance(by: 1)
            _ = try await harness.issuedClaims(try await harness.exchange(try harness.validToken()))
            harness.auditBox.lines.withLock { $0.removeAll() }
            let get = try await harness.send(method: .GET, contentType: nil, body: "")
            harness.expectRefusal(get, status: 429, error: "temporarily_unavailable", reason: "rate_limited")
            #expect(get.headers["Allow"].isEmpty)
        }
    }

    @Test("the concurrency cap turns a flood into immediate 503s while a slow request is in progress")
    func concurrencyCap() async throws {
        var keyLimits = IssuerKeyStore.Limits()
        keyLimits.timeout = .seconds(30)
        try await ExchangeHarness.with(keyLimits: keyLimits, limits: Self.limits(concurrency: 1)) { harness in
            harness.issuer.delayJWKS(.seconds(3))
            let token = try harness.validToken()
            let slowDone = Mutex(false)
            async let slow = {
                let answer = try await harness.exchange(token)
                slowDone.withLock { $0 = true }
                return answer
            }()
            // Wait until the slow request holds the only slot (its key fetch has reached the issuer).
            for _ in 0..<300 where !harness.issuer.hits.contains("/jwks") { try await Task.sleep(for: .milliseconds(10)) }
            var refused: [ExchangeHarness.Answer] = []
            for _ in 0..<5 { refused.append(try await harness.exchange(token)) }
            #expect(!slowDone.withLock { $0 }, "all five were answered while the slow request still held the slot: not queued behind it")
            for answer in refused {
                #expect(answer.status == 503)
                #expect(answer.body["error"] == "temporarily_unavailable")
                #expect(answer.headers["Retry-After"].first == "1")
                #expect(answer.body["access_token"] == nil)
            }
            #expect(try await slow.status == 200)
            let reasons = harness.audit.compactMap { $0["reason"]?.stringValue }
            #expect(reasons == Array(repeating: "overloaded", count: 5))
            // The slot is free again.
            _ = try await harness.issuedClaims(try await harness.exchange(token))
        }
    }
}
