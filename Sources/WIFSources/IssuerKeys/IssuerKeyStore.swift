public import AsyncHTTPClient
import FoundationEssentials
public import Logging
public import NIOCore
import NIOHTTP1
public import WIFCore

/// Fetches and caches each trusted issuer's keys from its configured source, and only from there: nothing
/// in a token ever names a URL that is fetched.
///
/// Keys are fetched on first use and shared by all requests; concurrent requests for the same issuer wait
/// for one fetch (single flight). A cached set is refreshed when older than ``Limits/maxAge``, or when a
/// token names an unknown `kid` — at most once per ``Limits/unknownKeyRefreshInterval`` per issuer. When a
/// refresh fails, the last good keys keep serving.
public actor IssuerKeyStore: IssuerKeySource {
    /// Bounds on key fetching.
    public struct Limits: Sendable {
        public var timeout: TimeAmount = .seconds(5)
        public var maxResponseBytes = 256 * 1024
        public var maxAge: Double = 300
        public var unknownKeyRefreshInterval: Double = 30
        /// After a failed fetch with no keys cached, requests fail fast for this long instead of each
        /// triggering another fetch.
        public var failureRetryInterval: Double = 5
        public init() {}
    }

    private struct Entry {
        var keys: JWKSet
        var fetchedAt: Double
        var lastAttempt: Double
    }

    private let httpClient: HTTPClient
    private let trustConfigFolder: TrustConfigDirectory?
    private let development: DevelopmentIssuer?
    private let clock: any WallClock
    private let limits: Limits
    private let logger: Logger
    private var entries: [String: Entry] = [:]
    private var failedAt: [String: (time: Double, reason: String)] = [:]
    private var inFlight: [String: Task<JWKSet, any Error>] = [:]

    public init(
        httpClient: HTTPClient,
        trustConfigFolder: TrustConfigDirectory?,
        development: DevelopmentIssuer?,
        clock: any WallClock,
        limits: Limits = Limits(),
        logger: Logger
    ) {
        self.httpClient = httpClient
        self.trustConfigFolder = trustConfigFolder
        self.development = development
        self.clock = clock
        self.limits = limits
        self.logger = logger
    }

    public func keys(for issuer: TrustedIssuer, keyID: String?) async throws(ExchangeError) -> JWKSet {
        let now = clock.now()
        let cacheKey = issuer.name + "\u{0}" + issuer.issuer
        if let entry = entries[cacheKey] {
            let fresh = now - entry.fetchedAt < limits.maxAge
            let known = entry.keys.key(for: keyID) != nil
            let mayRetry = now - entry.lastAttempt >= limits.unknownKeyRefreshInterval
            if (fresh && known) || !mayRetry {
                return entry.keys
            }
        }
        if entries[cacheKey] == nil, let failure = failedAt[cacheKey], now - failure.time < limits.failureRetryInterval {
            throw ExchangeError(
                .issuerKeysUnavailable,
                "issuer keys are temporarily unavailable",
                detail: "issuer \(issuer.name): \(failure.reason) (retrying soon)"
            )
        }
        do {
            return try await refresh(issuer, cacheKey: cacheKey)
        } catch {
            if let entry = entries[cacheKey] {
                logger.warning("issuer key refresh failed; serving cached keys", metadata: ["issuer": "\(issuer.name)", "error": "\(error)"])
                return entry.keys
            }
            logger.error("issuer keys unavailable", metadata: ["issuer": "\(issuer.name)", "error": "\(error)"])
            throw ExchangeError(.issuerKeysUnavailable, "issuer keys are temporarily unavailable", detail: "issuer \(issuer.name): \(error)")
        }
    }

    private func refresh(_ issuer: TrustedIssuer, cacheKey: String) async throws -> JWKSet {
        if let running = inFlight[cacheKey] { return try await running.value }
        entries[cacheKey]?.lastAttempt = clock.now()
        let deadline = limits.timeout
        // One deadline over the whole fetch: AsyncHTTPClient's request timeout stops at the response head,
        // so a source trickling its body would otherwise hold the fetch (and every waiter) forever.
        let task = Task {
            try await withThrowingTaskGroup(of: JWKSet.self) { group in
                group.addTask { try await self.fetch(issuer) }
                group.addTask {
                    try await Task.sleep(for: .nanoseconds(deadline.nanoseconds))
                    throw KeySourceError("key fetch took longer than \(deadline.nanoseconds / 1_000_000_000) s")
                }
                defer { group.cancelAll() }
                return try await group.next()!
            }
        }
        inFlight[cacheKey] = task
        defer { inFlight[cacheKey] = nil }
        let now = clock.now()
        do {
            let keys = try await task.value
            entries[cacheKey] = Entry(keys: keys, fetchedAt: now, lastAttempt: now)
            failedAt[cacheKey] = nil
            for skipped in keys.skipped {
                logger.warning("issuer key skipped", metadata: ["issuer": "\(issuer.name)", "reason": "\(skipped)"])
            }
            return keys
        } catch {
            entries[cacheKey]?.lastAttempt = now
            failedAt[cacheKey] = (now, "\(error)")
            throw error
        }
    }

    private func fetch(_ issuer: TrustedIssuer) async throws -> JWKSet {
        let keys: JWKSet
        switch issuer.keySource {
        case .development:
            guard let development else { throw KeySourceError("the development issuer is not enabled") }
            keys = development.keySet
        case .jwksFile(let file):
            let path = trustConfigFolder?.resolve(file) ?? file
            guard let data = FileManager.default.contents(atPath: path) else { throw KeySourceError("cannot read JWKS file \(path)") }
            guard data.count <= limits.maxResponseBytes else { throw KeySourceError("JWKS file \(path) is too large") }
            keys = try JWKSet.parse(Array(data))
        case .jwksURL(let url):
            keys = try JWKSet.parse(try await get(url, issuer: issuer))
        case .discovery:
            let base = issuer.issuer.hasSuffix("/") ? String(issuer.issuer.dropLast()) : issuer.issuer
            let document = try JSONValue.parse(try await get(base + "/.well-known/openid-configuration", issuer: issuer))
            guard let discovered = document["issuer"]?.stringValue, discovered.isCodePointEqual(to: issuer.issuer) else {
                throw KeySourceError("discovery document names a different issuer")
            }
            guard let jwksURI = document["jwks_uri"]?.stringValue else { throw KeySourceError("discovery document has no jwks_uri") }
            keys = try JWKSet.parse(try await get(jwksURI, issuer: issuer))
        }
        guard !keys.keys.isEmpty else { throw KeySourceError("the issuer's JWKS has no usable key") }
        return keys
    }

    /// GET with the issuer's URL rules, no redirects, a timeout and a response size cap.
    private func get(_ url: String, issuer: TrustedIssuer) async throws -> [UInt8] {
        if let problem = KeySourceURL.problem(url, insecureLoopback: issuer.allowInsecureLoopback) {
            throw KeySourceError("refusing to fetch \(url): \(problem)")
        }
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        let response = try await httpClient.execute(request, timeout: limits.timeout)
        guard response.status == .ok else { throw KeySourceError("GET \(url) answered \(response.status.code)") }
        let body = try await response.body.collect(upTo: limits.maxResponseBytes)
        return Array(buffer: body)
    }
}

struct KeySourceError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
