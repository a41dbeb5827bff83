import Synchronization

/// A rate: `perSecond` sustained, up to `burst` at once (a token bucket's refill rate and size).
public struct RateLimit: Sendable, Hashable, CustomStringConvertible {
    public var perSecond: Double
    public var burst: Int

    public init(perSecond: Double, burst: Int) {
        self.perSecond = perSecond
        self.burst = burst
    }

    /// No limit.
    public static let off = RateLimit(perSecond: 0, burst: 0)

    public var isEnabled: Bool { perSecond > 0 && burst > 0 }

    public var description: String { isEnabled ? "\(perSecond)/\(burst)" : "off" }

    /// Parses `RATE/BURST` (`20/100`), `RATE` (burst = rate, at least 1) or `off`; nil when malformed.
    public init?(parsing text: String) {
        if text == "off" || text == "0" {
            self = .off
            return
        }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let rate = Double(parts[0]), rate.isFinite, rate > 0, rate <= 1_000_000 else { return nil }
        let burst = parts.count == 2 ? Int(parts[1]) : max(1, Int(rate.rounded(.up)))
        guard let burst, burst >= 1, burst <= 1_000_000 else { return nil }
        self.init(perSecond: rate, burst: burst)
    }
}

/// Token buckets keyed by a string (a client address, an issuer and subject), with bounded memory.
///
/// Each key's bucket starts full (`burst` tokens) and refills at `perSecond`; a request takes one token or
/// is refused with the time until the next one. Time comes from an injected monotonic clock (seconds), so
/// that a wall-clock step neither stalls nor frees every client (security-cases.md L9). At most
/// `maxKeys` buckets are kept: past that, buckets that have refilled (indistinguishable from absent) are
/// dropped first, then the least recently used half, so a flood of distinct keys costs bounded memory and
/// at worst gives some idle keys a fresh bucket.
public final class TokenBucketLimiter: Sendable {
    public let rate: RateLimit
    public let maxKeys: Int
    private let clock: @Sendable () -> Double
    private let buckets: Mutex<[String: Bucket]>

    struct Bucket {
        var tokens: Double
        var updated: Double
    }

    public init(rate: RateLimit, maxKeys: Int = 10_000, clock: @escaping @Sendable () -> Double) {
        self.rate = rate
        self.maxKeys = max(1, maxKeys)
        self.clock = clock
        self.buckets = Mutex([:])
    }

    /// Takes a token for `key`: nil when admitted, else the seconds until a token will be available.
    public func take(_ key: String) -> Double? {
        guard rate.isEnabled else { return nil }
        let now = clock()
        let burst = Double(rate.burst)
        return buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
            // A clock that went backwards refills nothing and takes nothing away.
            let elapsed = max(0, now - bucket.updated)
            bucket.tokens = min(burst, bucket.tokens + elapsed * rate.perSecond)
            bucket.updated = max(bucket.updated, now)
            let wait: Double?
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                wait = nil
            } else {
                wait = (1 - bucket.tokens) / rate.perSecond
            }
            buckets[key] = bucket
            if buckets.count > maxKeys { Self.evict(&buckets, keeping: maxKeys, now: now, rate: rate) }
            return wait
        }
    }

    /// How many keys are tracked now (for tests and metrics).
    public var trackedKeys: Int { buckets.withLock { $0.count } }

    private static func evict(_ buckets: inout [String: Bucket], keeping maxKeys: Int, now: Double, rate: RateLimit) {
        let burst = Double(rate.burst)
        buckets = buckets.filter { $0.value.tokens + max(0, now - $0.value.updated) * rate.perSecond < burst }
        guard buckets.count > maxKeys else { return }
        let keep = buckets.sorted { $0.value.updated > $1.value.updated }.prefix(maxKeys / 2)
        buckets = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
    }
}

/// A cap on requests in progress: a flood is answered at once with 503 instead of queuing until everyone
/// times out (security-cases.md L10).
public final class ConcurrencyLimiter: Sendable {
    public let limit: Int
    private let inFlight = Atomic<Int>(0)

    /// `limit` ≤ 0 means no cap.
    public init(limit: Int) {
        self.limit = limit
    }

    /// Enters when below the cap; the caller must ``leave()`` after.
    public func tryEnter() -> Bool {
        let now = inFlight.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue
        guard limit > 0, now > limit else { return true }
        inFlight.wrappingSubtract(1, ordering: .acquiringAndReleasing)
        return false
    }

    public func leave() {
        inFlight.wrappingSubtract(1, ordering: .acquiringAndReleasing)
    }

    public var current: Int { inFlight.load(ordering: .acquiring) }
}
