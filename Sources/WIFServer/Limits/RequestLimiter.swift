import CoreMetrics
import Synchronization
public import WIFCore

/// How much `/token` traffic wif takes before refusing (docs/operations.md, "Limits and timeouts").
public struct RequestLimitSettings: Sendable, Hashable {
    /// Per client address, checked before anything else is read (HTTP 429).
    public var perClient = RateLimit(perSecond: 200, burst: 2000)
    /// Per subject identity (issuer + `sub`), checked once the subject token has verified (HTTP 429).
    public var perSubject = RateLimit(perSecond: 50, burst: 500)
    /// Token requests in progress at once; beyond it, an immediate 503 (0: no cap).
    public var maxConcurrentRequests = 512
    /// Buckets kept per limit; the least recently used are dropped beyond it.
    public var maxTrackedKeys = 100_000

    public init() {}
}

/// The limits of one server: per-client and per-subject token buckets and the concurrency cap, each
/// refusal counted in `wif_rate_limited_total{limit}`.
final class RequestLimiter: Sendable {
    let clients: TokenBucketLimiter
    let subjects: TokenBucketLimiter
    let concurrency: ConcurrencyLimiter
    let metrics: any MetricsFactory

    init(_ settings: RequestLimitSettings, clock: @escaping @Sendable () -> Double, metrics: any MetricsFactory) {
        clients = TokenBucketLimiter(rate: settings.perClient, maxKeys: settings.maxTrackedKeys, clock: clock)
        subjects = TokenBucketLimiter(rate: settings.perSubject, maxKeys: settings.maxTrackedKeys, clock: clock)
        concurrency = ConcurrencyLimiter(limit: settings.maxConcurrentRequests)
        self.metrics = metrics
    }

    /// Refuses a client address over its rate (requests without a known address share one bucket).
    func admitClient(_ address: String?) -> ExchangeError? {
        clients.take(address ?? "unknown").map { wait in rateLimited("client", "client address", rate: clients.rate, wait: wait) }
    }

    /// Refuses a verified identity over its rate.
    func admitSubject(_ token: VerifiedToken) -> ExchangeError? {
        subjects.take(token.issuer.name + "\u{0}" + token.subject).map { wait in rateLimited("subject", "subject", rate: subjects.rate, wait: wait) }
    }

    /// The refusal of a request over the `limit` bucket's rate, counted.
    private func rateLimited(_ limit: String, _ who: String, rate: RateLimit, wait: Double) -> ExchangeError {
        count(limit)
        return ExchangeError(
            .rateLimited,
            "too many requests: retry later",
            detail: "\(who) over \(rate) requests per second/burst",
            retryAfter: Self.seconds(wait)
        )
    }

    /// Enters the concurrency cap, or the refusal; a caller that entered must ``leave()``.
    func enter() -> ExchangeError? {
        guard !concurrency.tryEnter() else { return nil }
        count("concurrency")
        return ExchangeError(
            .overloaded,
            "the service is overloaded: retry later",
            detail: "\(concurrency.limit) token requests already in progress",
            retryAfter: 1
        )
    }

    func leave() { concurrency.leave() }

    private func count(_ limit: String) {
        Counter(label: "wif_rate_limited_total", dimensions: [("limit", limit)], factory: metrics).increment()
    }

    /// Whole seconds for Retry-After: rounded up, at least 1.
    static func seconds(_ wait: Double) -> Int {
        guard wait.isFinite, wait < 86_400 else { return 86_400 }
        return max(1, Int(wait.rounded(.up)))
    }
}
