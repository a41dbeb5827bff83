public import AsyncHTTPClient
import Foundation
public import Logging
import NIOCore
import NIOHTTP1
public import WIFCore

/// Access tokens from a wif exchanger, always valid when handed out: the subject token comes from a
/// ``SubjectTokenProvider`` for every exchange, the answer is cached, and replaced ahead of expiry.
///
/// - A cached token is returned until its ``AccessToken/refreshAt``; from then on callers still get it while
///   one background exchange replaces it, so no caller waits on a refresh while a valid token exists.
/// - Callers that have no valid token wait for the one exchange in flight: a hundred concurrent callers
///   cause one exchange (single flight).
/// - What is worth retrying (``WIFClientError/isRetryable``) is retried per ``RetryPolicy``; a definitive
///   refusal such as `invalid_grant` is thrown at once.
/// - When a background refresh fails, the still-valid token keeps being served and the next refresh waits
///   ``RetryPolicy/maximumBackoff``.
///
/// ```swift
/// let source = TokenSource(
///     configuration: .init(exchanger: "https://wif.example.com", request: .init(audiences: ["https://api.example.com"])),
///     subject: FileTokenProvider(path: "/var/run/secrets/tokens/wif")
/// )
/// let token = try await source.token()
/// request.headers.add(name: "Authorization", value: "Bearer \(token.value)")
/// ```
public actor TokenSource {
    public struct Configuration: Sendable {
        /// The exchanger's token endpoint.
        public var tokenURL: String
        /// What to ask for: audience, scope, resource, client id; the grant (RFC 8693 token exchange unless
        /// set). The subject token's type comes from its provider unless set here.
        public var request: TokenRequestParameters
        public var refresh: RefreshPolicy
        public var retry: RetryPolicy
        /// The longest one exchange may take.
        public var requestTimeout: Duration

        /// - Parameter exchanger: the exchanger's URL: its issuer URL (`https://wif.example.com`, the token
        ///   endpoint is then `/token` under it) or its token endpoint itself (a URL ending in `/token`).
        public init(
            exchanger: String,
            request: TokenRequestParameters,
            refresh: RefreshPolicy = RefreshPolicy(),
            retry: RetryPolicy = RetryPolicy(),
            requestTimeout: Duration = .seconds(10)
        ) {
            self.tokenURL = Self.tokenURL(exchanger)
            self.request = request
            self.refresh = refresh
            self.retry = retry
            self.requestTimeout = requestTimeout
        }

        /// `exchanger` itself when it names a token endpoint, else `exchanger/token`.
        public static func tokenURL(_ exchanger: String) -> String {
            var url = exchanger
            while url.hasSuffix("/") { url.removeLast() }
            let path = url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
            return path.hasSuffix("/token") ? url : url + "/token"
        }
    }

    public nonisolated let configuration: Configuration
    public nonisolated let subject: any SubjectTokenProvider
    private let httpClient: HTTPClient
    private let clock: any WallClock
    private let random: @Sendable () -> Double
    private let logger: Logger

    private var cached: AccessToken?
    private var inFlight: Task<AccessToken, any Error>?
    /// After a failed background refresh: no new one starts before this time.
    private var quietUntil = -Double.infinity
    /// The HTTP client sources and providers use unless given one: it follows no redirect (a token
    /// request is never sent on to another address) and gives up connecting after 5 seconds.
    public static let defaultHTTPClient = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: .init(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5)))
    )

    /// Exchanges this source has sent (attempts included), for logs and tests.
    public private(set) var exchanges = 0

    /// - Parameters:
    ///   - clock: the time tokens are kept by (tests inject one); the wall clock when nil.
    ///   - random: numbers in 0...1 for backoff and refresh jitter.
    public init(
        configuration: Configuration,
        subject: any SubjectTokenProvider,
        httpClient: HTTPClient = TokenSource.defaultHTTPClient,
        clock: (any WallClock)? = nil,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0...1) },
        logger: Logger = Logger(label: "wif.client")
    ) {
        self.configuration = configuration
        self.subject = subject
        self.httpClient = httpClient
        self.clock = clock ?? ProcessClock()
        self.random = random
        self.logger = logger
    }

    /// The cached token, valid or not, without any exchange.
    public var current: AccessToken? { cached }

    /// A valid access token: the cached one, or a new one when there is none or it has less than
    /// ``RefreshPolicy/minimumValidity`` left.
    public func token() async throws(WIFClientError) -> AccessToken {
        let now = clock.now()
        if let cached, cached.isUsable(at: now, policy: configuration.refresh) {
            if now >= cached.refreshAt, now >= quietUntil, inFlight == nil {
                _ = exchangeOnce(background: true)
            }
            return cached
        }
        return try await Self.value(of: exchangeOnce(background: false))
    }

    /// A new token now, whatever the cache holds; joins an exchange already in flight.
    public func refresh() async throws(WIFClientError) -> AccessToken {
        try await Self.value(of: exchangeOnce(background: false))
    }

    /// The exchange in flight, or a new one; `background` when a caller is served the cached token meanwhile.
    private func exchangeOnce(background: Bool) -> Task<AccessToken, any Error> {
        if let inFlight { return inFlight }
        let task = Task { () async throws -> AccessToken in
            do {
                let token = try await exchangeWithRetries()
                let previous = cached
                cached = token
                inFlight = nil
                quietUntil = -Double.infinity
                if let previous, token.expiresAt <= previous.expiresAt + 1 {
                    // No later expiry: the subject token ends then (the exchanger never issues past it), so
                    // refreshing again before it rotates would only repeat this answer.
                    quietUntil = clock.now() + configuration.retry.maximumBackoff.inSeconds
                    logger.warning(
                        "the new token expires no later than the previous one; the subject token ends then",
                        metadata: ["expires_at": "\(Instant.format(token.expiresAt))", "subject": "\(subject.origin)"]
                    )
                }
                return token
            } catch {
                inFlight = nil
                if background, let cached, cached.isUsable(at: clock.now(), policy: configuration.refresh) {
                    let wait = configuration.retry.maximumBackoff
                    quietUntil = clock.now() + wait.inSeconds
                    logger.warning(
                        "refresh failed; the cached token stays in use",
                        metadata: ["error": "\(error)", "expires_at": "\(Instant.format(cached.expiresAt))", "next_attempt_in": "\(wait)"]
                    )
                }
                throw error
            }
        }
        inFlight = task
        return task
    }

    private static func value(of task: Task<AccessToken, any Error>) async throws(WIFClientError) -> AccessToken {
        do {
            return try await task.value
        } catch let error as WIFClientError {
            throw error
        } catch {
            throw WIFClientError(.transport, "the exchange was cancelled")
        }
    }

    private func exchangeWithRetries() async throws(WIFClientError) -> AccessToken {
        var attempt = 1
        while true {
            do {
                return try await exchange()
            } catch {
                guard error.isRetryable, attempt < configuration.retry.attempts, !Task.isCancelled else { throw error }
                let delay = configuration.retry.delay(after: attempt, retryAfter: error.retryAfter, random: random())
                logger.info("exchange failed; retrying", metadata: ["error": "\(error)", "attempt": "\(attempt)", "retry_in": "\(delay)"])
                try? await Task.sleep(for: delay)
                attempt += 1
            }
        }
    }

    /// One exchange: the subject token from its provider, one POST, the answer read.
    private func exchange() async throws(WIFClientError) -> AccessToken {
        let subjectToken = try await subject.subjectToken()
        var parameters = configuration.request
        if parameters.subjectTokenType == nil { parameters.subjectTokenType = subjectToken.type }
        var request = HTTPClientRequest(url: configuration.tokenURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: parameters.form(token: subjectToken.value).encoded))
        exchanges += 1
        let obtainedAt = clock.now()
        let status: Int
        let body: [UInt8]
        let retryAfter: Double?
        do {
            let response = try await httpClient.execute(request, timeout: TimeAmount.nanoseconds(configuration.requestTimeout.inNanoseconds))
            status = Int(response.status.code)
            retryAfter = response.headers.first(name: "Retry-After").flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            body = Array(buffer: try await response.body.collect(upTo: 1024 * 1024))
        } catch {
            throw WIFClientError(.transport, "cannot reach the exchanger at \(configuration.tokenURL): \(error)")
        }
        guard status == 200 else { throw WIFClientError.answer(status: status, body: body, retryAfter: retryAfter) }
        return try Self.token(from: body, obtainedAt: obtainedAt, policy: configuration.refresh, random: random())
    }

    /// The RFC 8693 §2.2.1 response: `access_token`, `token_type` and a positive `expires_in` required.
    static func token(from body: [UInt8], obtainedAt: Double, policy: RefreshPolicy, random: Double) throws(WIFClientError) -> AccessToken {
        guard let json = try? JSONValue.parse(body), let value = json["access_token"]?.stringValue, !value.isEmpty,
            let tokenType = json["token_type"]?.stringValue, let lifetime = json["expires_in"]?.numberValue, lifetime > 0, lifetime.isFinite
        else {
            throw WIFClientError(.malformedResponse, "the exchanger's answer is not a token response (access_token, token_type, expires_in)")
        }
        let expiresAt = obtainedAt + lifetime
        return AccessToken(
            value: value,
            tokenType: tokenType,
            issuedTokenType: json["issued_token_type"]?.stringValue,
            scopes: json["scope"]?.stringValue.map { $0.split(separator: " ").map(String.init) } ?? [],
            obtainedAt: obtainedAt,
            expiresAt: expiresAt,
            refreshAt: policy.refreshAt(obtainedAt: obtainedAt, expiresAt: expiresAt, random: random)
        )
    }
}

extension AccessToken {
    /// Whether to hand the token out at `now`: it has more than the policy's minimum validity left.
    public func isUsable(at now: Double, policy: RefreshPolicy) -> Bool {
        now < expiresAt - min(policy.minimumValidity, (expiresAt - obtainedAt) / 10)
    }
}

/// The wall clock, for sources that are not given one.
struct ProcessClock: WallClock {
    func now() -> Double { Date().timeIntervalSince1970 }
}
