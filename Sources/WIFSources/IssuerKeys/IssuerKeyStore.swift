public import AsyncHTTPClient
public import CoreMetrics
import FoundationEssentials
public import Logging
public import NIOCore
import NIOHTTP1
import Synchronization
public import WIFCore

/// Fetches and caches each trusted issuer's keys from its configured sources, and only from there: nothing
/// in a token ever names a URL that is fetched.
///
/// - Keys are fetched once and shared by all requests; concurrent needs of one issuer wait for one fetch
///   (single flight).
/// - Once an issuer has keys, requests never wait for a scheduled refresh: a due refresh starts in the
///   background (``IssuerKeyRefresher`` also runs them on schedule). The schedule honours the JWKS
///   response's `Cache-Control: max-age`, clamped to the issuer's ``KeyCachePolicy``.
/// - A token naming an unknown `kid` makes a request wait for one refresh, at most once per
///   ``KeyCachePolicy/unknownKeyInterval`` per issuer, so new keys work at once and random kids cost nothing.
/// - When refreshes fail, they are retried with exponential backoff and the last good keys keep serving for
///   ``KeyCachePolicy/maxStale``; then the issuer is unavailable (503) until a fetch succeeds. Keys pinned in
///   ``TrustedIssuer/pinnedKeysFile`` serve regardless.
/// - A request whose keys are in hand and due for nothing reads them from a published copy of the store's
///   state without entering the actor: requests on both cores never queue behind each other here.
public actor IssuerKeyStore: IssuerKeySource {
    /// Bounds on key fetching, the same for every issuer.
    public struct Limits: Sendable {
        /// One deadline over a whole fetch (discovery, redirects and JWKS, head and body).
        public var timeout: TimeAmount = .seconds(5)
        public var maxResponseBytes = 256 * 1024
        /// Redirects followed per request: only to the same scheme, host and port (security-cases.md case 91),
        /// each checked by the key-source URL rule.
        public var maxRedirects = 1
        /// The wait before retrying after a failed fetch; doubles with each consecutive failure.
        public var retryDelay: Double = 5
        public var maxRetryDelay: Double = 300
        public init() {}
    }

    /// The HTTP client settings key fetching expects: no redirects followed by the client (the store
    /// follows them itself, checking each), and a 2 s connect timeout under the 5 s fetch deadline.
    public static var clientConfiguration: HTTPClient.Configuration {
        HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(2)))
    }

    private struct Entry {
        var live: JWKSet? { didSet { combine() } }
        var pinned: JWKSet? { didSet { combine() } }
        /// Pinned keys first, then the live keys whose `kid` no pinned key has: built when either changes,
        /// not per request.
        private(set) var combined: JWKSet?
        var fetchedAt: Double?
        var refreshAt: Double = 0
        var retryAt: Double = 0
        var failures = 0
        var unknownKeyRefreshAt = -Double.infinity
        var liveStamp: FileStamp?
        var pinnedStamp: FileStamp?
        var pinnedAttempted = false

        private mutating func combine() {
            let pinnedKeys = pinned?.keys ?? []
            let pinnedIDs = Set(pinnedKeys.compactMap(\.keyID))
            let liveKeys = live?.keys.filter { key in key.keyID.map { !pinnedIDs.contains($0) } ?? true } ?? []
            combined = pinnedKeys.isEmpty && liveKeys.isEmpty ? nil : JWKSet(keys: pinnedKeys + liveKeys)
        }
    }

    private let httpClient: HTTPClient
    private let trustConfigFolder: TrustConfigDirectory?
    private let development: DevelopmentIssuer?
    private let clock: any WallClock
    private let limits: Limits
    private let logger: Logger
    private let metrics: any MetricsFactory
    private var entries: [String: Entry] = [:] {
        didSet { published.withLock { $0.entries = entries } }
    }
    private var inFlight: [String: Task<JWKSet, any Error>] = [:] {
        didSet { published.withLock { $0.refreshing = Set(inFlight.keys) } }
    }

    /// The state as of its last change, for the request path outside the actor (copy-on-write: publishing
    /// shares the storage).
    private struct Published {
        var entries: [String: Entry] = [:]
        /// The issuers (by cache key) whose keys are being fetched now.
        var refreshing: Set<String> = []
    }
    private nonisolated let published = Mutex(Published())

    public init(
        httpClient: HTTPClient,
        trustConfigFolder: TrustConfigDirectory?,
        development: DevelopmentIssuer?,
        clock: any WallClock,
        limits: Limits = Limits(),
        logger: Logger,
        metrics: (any MetricsFactory)? = nil
    ) {
        self.httpClient = httpClient
        self.trustConfigFolder = trustConfigFolder
        self.development = development
        self.clock = clock
        self.limits = limits
        self.logger = logger
        self.metrics = metrics ?? MetricsSystem.factory
    }

    // MARK: - The request path

    public nonisolated func keys(for issuer: TrustedIssuer, keyID: String?) async throws(ExchangeError) -> JWKSet {
        if let keys = keysInHand(issuer, keyID: keyID, now: clock.now()) { return keys }
        return try await keysWaiting(for: issuer, keyID: keyID)
    }

    /// The keys ``keysWaiting(for:keyID:)`` would return at once, with nothing for it to do: pins loaded, the
    /// `kid` known, no refresh due (or one already running). Nil sends the request through the actor.
    private nonisolated func keysInHand(_ issuer: TrustedIssuer, keyID: String?, now: Double) -> JWKSet? {
        let cacheKey = issuer.cacheKey
        guard let (entry, refreshing) = published.withLock({ state in state.entries[cacheKey].map { ($0, state.refreshing.contains(cacheKey)) } }),
            issuer.pinnedKeysFile == nil || entry.pinned != nil || entry.pinnedAttempted,
            refreshing || now < entry.refreshAt || now < entry.retryAt,
            let keys = Self.usableKeys(entry, issuer, now: now),
            keys.key(for: keyID) != nil
        else { return nil }
        return keys
    }

    private func keysWaiting(for issuer: TrustedIssuer, keyID: String?) async throws(ExchangeError) -> JWKSet {
        let now = clock.now()
        loadPinnedKeysIfNeeded(issuer)
        if let keys = usableKeys(issuer, now: now) {
            if keys.key(for: keyID) != nil {
                if let entry = entries[issuer.cacheKey], now >= entry.refreshAt, now >= entry.retryAt { refreshInBackground(issuer) }
                return keys
            }
            // An unknown kid: maybe the issuer rotated. Join a fetch already running (another request may
            // have started it for the same new key), else one refresh per interval, waited for.
            if let running = inFlight[issuer.cacheKey] {
                _ = try? await running.value
            } else if now - (entries[issuer.cacheKey]?.unknownKeyRefreshAt ?? -.infinity) >= Double(issuer.keyCache.unknownKeyInterval) {
                entries[issuer.cacheKey, default: Entry()].unknownKeyRefreshAt = now
                _ = try? await refresh(issuer)
            }
            return usableKeys(issuer, now: clock.now()) ?? keys
        }
        let entry = entries[issuer.cacheKey] ?? Entry()
        guard now >= entry.retryAt else {
            throw unavailable(issuer, "last fetch failed; retrying in \(Int(entry.retryAt - now)) s")
        }
        do {
            _ = try await refresh(issuer)
        } catch {
            throw unavailable(issuer, "\(error)")
        }
        guard let keys = usableKeys(issuer, now: clock.now()) else { throw unavailable(issuer, "no usable keys") }
        return keys
    }

    /// Pinned and fetched keys that may be used now: fetched keys only until ``KeyCachePolicy/maxStale``
    /// after their fetch. Pinned keys come first; a fetched key with a pinned key's `kid` is left out.
    private func usableKeys(_ issuer: TrustedIssuer, now: Double) -> JWKSet? {
        entries[issuer.cacheKey].flatMap { Self.usableKeys($0, issuer, now: now) }
    }

    private static func usableKeys(_ entry: Entry, _ issuer: TrustedIssuer, now: Double) -> JWKSet? {
        if entry.live != nil, let fetchedAt = entry.fetchedAt, now - fetchedAt <= Double(issuer.keyCache.maxStale) {
            return entry.combined
        }
        return entry.pinned
    }

    private func unavailable(_ issuer: TrustedIssuer, _ reason: String) -> ExchangeError {
        ExchangeError(.issuerKeysUnavailable, "issuer keys are temporarily unavailable", detail: "issuer \(issuer.name): \(reason)")
    }

    // MARK: - Refreshing

    private func refreshInBackground(_ issuer: TrustedIssuer) {
        guard inFlight[issuer.cacheKey] == nil else { return }
        Task { _ = try? await self.refresh(issuer) }
    }

    /// Fetches the live keys now (or joins the fetch already running) and records the outcome.
    @discardableResult
    func refresh(_ issuer: TrustedIssuer) async throws -> JWKSet {
        if let running = inFlight[issuer.cacheKey] { return try await running.value }
        let deadline = limits.timeout
        // One deadline over the whole fetch: AsyncHTTPClient's request timeout stops at the response head,
        // so a source trickling its body would otherwise hold the fetch (and every waiter) forever.
        let task = Task {
            try await withThrowingTaskGroup(of: (JWKSet, Int?).self) { group in
                group.addTask { try await self.fetch(issuer) }
                group.addTask {
                    try await Task.sleep(for: .nanoseconds(deadline.nanoseconds))
                    throw KeySourceError("key fetch took longer than \(Double(deadline.nanoseconds) / 1e9) s")
                }
                defer { group.cancelAll() }
                let (keys, maxAge) = try await group.next()!
                await self.recordSuccess(issuer, keys: keys, maxAge: maxAge)
                return keys
            }
        }
        inFlight[issuer.cacheKey] = task
        defer { inFlight[issuer.cacheKey] = nil }
        do {
            return try await task.value
        } catch {
            recordFailure(issuer, error)
            throw error
        }
    }

    private func recordSuccess(_ issuer: TrustedIssuer, keys: JWKSet, maxAge: Int?) {
        let now = clock.now()
        var entry = entries[issuer.cacheKey] ?? Entry()
        entry.live = keys
        entry.fetchedAt = now
        entry.refreshAt = now + Double(issuer.keyCache.refreshInterval(maxAge: maxAge))
        entry.retryAt = now
        entry.failures = 0
        entries[issuer.cacheKey] = entry
        count("wif_jwks_fetches_total", issuer, result: "success")
        for skipped in keys.skipped {
            logger.warning("issuer key skipped", metadata: ["issuer": "\(issuer.name)", "reason": "\(skipped)"])
        }
        record(issuer)
    }

    private func recordFailure(_ issuer: TrustedIssuer, _ error: any Error) {
        let now = clock.now()
        var entry = entries[issuer.cacheKey] ?? Entry()
        entry.failures += 1
        let delay = min(limits.retryDelay * Double(1 << min(entry.failures - 1, 16)), limits.maxRetryDelay)
        entry.retryAt = now + delay
        entries[issuer.cacheKey] = entry
        count("wif_jwks_fetches_total", issuer, result: "failure")
        let serving = usableKeys(issuer, now: now) != nil
        logger.log(
            level: serving ? .warning : .error,
            serving ? "issuer key refresh failed; serving the last good keys" : "issuer keys unavailable",
            metadata: ["issuer": "\(issuer.name)", "error": "\(error)", "failures": "\(entry.failures)", "retry_in_s": "\(Int(delay))"]
        )
        record(issuer)
    }

    /// The scheduled work for `issuers`: the first fetch, due refreshes (when the backoff allows), and
    /// re-reading key files that changed. ``IssuerKeyRefresher`` calls this every second.
    public func maintain(_ issuers: [TrustedIssuer]) async {
        // Forget issuers a reload removed or changed, so that re-adding one never revives old keys.
        let current = Set(issuers.map(\.cacheKey))
        entries = entries.filter { current.contains($0.key) }
        let now = clock.now()
        var due: [TrustedIssuer] = []
        for issuer in issuers {
            loadPinnedKeysIfNeeded(issuer, recheck: true)
            let entry = entries[issuer.cacheKey] ?? Entry()
            var changedFile = false
            if case .jwksFile(let file) = issuer.keySource, entry.fetchedAt != nil {
                changedFile = FileStamp(path: path(of: file)) != entry.liveStamp
            }
            if changedFile || (now >= entry.refreshAt && now >= entry.retryAt) { due.append(issuer) }
        }
        await withTaskGroup(of: Void.self) { group in
            for issuer in due { group.addTask { _ = try? await self.refresh(issuer) } }
        }
    }

    /// Reads the pinned JWKS file on first use, and again (if `recheck`) when it changed; a file that fails
    /// to load is tried again only once it changes.
    private func loadPinnedKeysIfNeeded(_ issuer: TrustedIssuer, recheck: Bool = false) {
        guard let file = issuer.pinnedKeysFile else { return }
        let entry = entries[issuer.cacheKey]
        let attempted = entry?.pinned != nil || entry?.pinnedAttempted == true
        guard !attempted || recheck else { return }
        let path = path(of: file)
        let stamp = FileStamp(path: path)
        guard !attempted || stamp != entry?.pinnedStamp else { return }
        entries[issuer.cacheKey, default: Entry()].pinnedAttempted = true
        entries[issuer.cacheKey, default: Entry()].pinnedStamp = stamp
        do {
            entries[issuer.cacheKey, default: Entry()].pinned = try readJWKSFile(path)
        } catch let error as KeySourceError {
            // A pin that is gone or holds no usable key pins nothing: removing a compromised pinned key must
            // work by editing the file.
            entries[issuer.cacheKey, default: Entry()].pinned = nil
            logger.warning("pinned keys removed", metadata: ["issuer": "\(issuer.name)", "file": "\(path)", "reason": "\(error)"])
        } catch {
            // A file that does not parse (half-written, corrupted): the last good pin stays.
            logger.error("pinned keys not loaded", metadata: ["issuer": "\(issuer.name)", "file": "\(path)", "error": "\(error)"])
        }
        record(issuer)
    }

    // MARK: - Fetching

    /// The live keys and the `max-age` their source named.
    private func fetch(_ issuer: TrustedIssuer) async throws -> (JWKSet, Int?) {
        let keys: JWKSet
        var maxAge: Int?
        switch issuer.keySource {
        case .development:
            guard let development else { throw KeySourceError("the development issuer is not enabled") }
            keys = development.keySet
        case .jwksFile(let file):
            let path = path(of: file)
            let stamp = FileStamp(path: path)
            keys = try readJWKSFile(path)
            entries[issuer.cacheKey, default: Entry()].liveStamp = stamp
        case .jwksURL(let url):
            let response = try await get(url, issuer: issuer)
            keys = try JWKSet.parse(response.body)
            maxAge = response.maxAge
        case .discovery:
            let base = issuer.issuer.hasSuffix("/") ? String(issuer.issuer.dropLast()) : issuer.issuer
            let document = try JSONValue.parse(try await get(base + "/.well-known/openid-configuration", issuer: issuer).body)
            guard let discovered = document["issuer"]?.stringValue, discovered.isCodePointEqual(to: issuer.issuer) else {
                throw KeySourceError("discovery document names a different issuer")
            }
            guard let jwksURI = document["jwks_uri"]?.stringValue else { throw KeySourceError("discovery document has no jwks_uri") }
            let response = try await get(jwksURI, issuer: issuer)
            keys = try JWKSet.parse(response.body)
            maxAge = response.maxAge
        }
        guard !keys.keys.isEmpty else { throw KeySourceError("the issuer's JWKS has no usable key") }
        return (keys, maxAge)
    }

    private func path(of file: String) -> String { trustConfigFolder?.resolve(file) ?? file }

    private func readJWKSFile(_ path: String) throws -> JWKSet {
        guard let data = FileManager.default.contents(atPath: path) else { throw KeySourceError("cannot read JWKS file \(path)") }
        guard data.count <= limits.maxResponseBytes else { throw KeySourceError("JWKS file \(path) is too large") }
        let keys = try JWKSet.parse(Array(data))
        guard !keys.keys.isEmpty else { throw KeySourceError("JWKS file \(path) has no usable key") }
        return keys
    }

    /// GET with the issuer's URL rule applied to the URL and every redirect (never to another scheme), a
    /// response size cap, and the `max-age` of the answer.
    private func get(_ url: String, issuer: TrustedIssuer) async throws -> (body: [UInt8], maxAge: Int?) {
        var current = url
        for _ in 0...limits.maxRedirects {
            if let problem = KeySourceURL.problem(current, insecureLoopback: issuer.allowInsecureLoopback) {
                throw KeySourceError("refusing to fetch \(current): \(problem)")
            }
            var request = HTTPClientRequest(url: current)
            request.headers.add(name: "Accept", value: "application/json")
            let response = try await httpClient.execute(request, timeout: limits.timeout)
            switch response.status.code {
            case 200:
                let body = try await response.body.collect(upTo: limits.maxResponseBytes)
                return (Array(buffer: body), Self.maxAge(response.headers["Cache-Control"]))
            case 301, 302, 303, 307, 308:
                guard let location = response.headers.first(name: "Location"), let next = URL(string: location, relativeTo: URL(string: current))
                else {
                    throw KeySourceError("GET \(current) redirected without a usable Location")
                }
                let target = next.absoluteURL
                guard let from = URL(string: current), Self.origin(of: target) == Self.origin(of: from) else {
                    throw KeySourceError("GET \(current) redirected to another origin (\(target.absoluteString))")
                }
                current = target.absoluteString
            default:
                throw KeySourceError("GET \(current) answered \(response.status.code)")
            }
        }
        throw KeySourceError("GET \(url) redirected more than \(limits.maxRedirects) times")
    }

    /// Scheme, host and port: a key source may only redirect within its own origin.
    static func origin(of url: URL) -> String {
        let scheme = url.scheme?.lowercased() ?? ""
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        return "\(scheme)://\(url.host?.lowercased() ?? ""):\(port)"
    }

    /// `max-age` from `Cache-Control` values; `no-cache`/`no-store` count as 0.
    static func maxAge(_ values: [String]) -> Int? {
        var result: Int?
        for directive in values.flatMap({ $0.split(separator: ",") }) {
            let parts = directive.split(separator: "=", maxSplits: 1).map { $0.filter { $0 != " " && $0 != "\t" }.lowercased() }
            guard let name = parts.first else { continue }
            switch name {
            case "no-cache", "no-store": result = 0
            case "max-age" where parts.count == 2: result = Int(parts[1]).map { max(0, $0) } ?? result
            default: break
            }
        }
        return result
    }

    // MARK: - State for /readyz and metrics

    public func status(of issuers: [TrustedIssuer]) async -> [IssuerKeyStatus] {
        let now = clock.now()
        return issuers.map { issuer in status(issuer, now: now) }
    }

    private func status(_ issuer: TrustedIssuer, now: Double) -> IssuerKeyStatus {
        let entry = entries[issuer.cacheKey]
        let usable = usableKeys(issuer, now: now)
        let state: IssuerKeyStatus.State
        if usable == nil {
            state = entry?.fetchedAt == nil && (entry?.failures ?? 0) == 0 ? .pending : .unavailable
        } else {
            state = (entry?.failures ?? 0) == 0 && entry?.fetchedAt != nil ? .fresh : .stale
        }
        return IssuerKeyStatus(
            issuer: issuer.name,
            state: state,
            keyCount: usable?.keys.count ?? 0,
            ageSeconds: entry?.fetchedAt.map { now - $0 },
            failures: entry?.failures ?? 0
        )
    }

    private func count(_ label: String, _ issuer: TrustedIssuer, result: String) {
        Counter(label: label, dimensions: [("issuer", issuer.name), ("result", result)], factory: metrics).increment()
    }

    private func record(_ issuer: TrustedIssuer) {
        let status = status(issuer, now: clock.now())
        Gauge(label: "wif_issuer_keys", dimensions: [("issuer", issuer.name)], factory: metrics).record(status.keyCount)
        Gauge(label: "wif_issuer_keys_usable", dimensions: [("issuer", issuer.name)], factory: metrics).record(status.isUsable ? 1 : 0)
        if let age = status.ageSeconds {
            Gauge(label: "wif_issuer_keys_last_fetch_timestamp_seconds", dimensions: [("issuer", issuer.name)], factory: metrics)
                .record(clock.now() - age)
        }
    }
}

extension TrustedIssuer {
    /// What the store files an issuer's keys under: its name, `iss`, key source and pinned file, so that a
    /// reloaded trust-config that changes any of them starts from that source's keys, never the old ones.
    var cacheKey: String {
        let source: String
        switch keySource {
        case .discovery: source = "discovery"
        case .jwksURL(let url): source = "url:" + url
        case .jwksFile(let file): source = "file:" + file
        case .development: source = "development"
        }
        return name + "\u{0}" + issuer + "\u{0}" + source + "\u{0}" + (pinnedKeysFile ?? "")
    }
}

struct KeySourceError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
