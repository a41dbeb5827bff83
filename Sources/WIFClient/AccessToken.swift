public import WIFCore

/// An access token from the exchanger, with the times a ``TokenSource`` keeps it by.
public struct AccessToken: Sendable, Hashable {
    /// The token to send as `Authorization: Bearer …`.
    public let value: String
    /// `token_type` (`Bearer`).
    public let tokenType: String
    /// RFC 8693 `issued_token_type`.
    public let issuedTokenType: String?
    /// The granted scopes (`scope`), empty when the answer names none.
    public let scopes: [String]
    /// When the exchanger answered, by the client's clock (seconds since 1970).
    public let obtainedAt: Double
    /// `obtainedAt + expires_in`.
    public let expiresAt: Double
    /// When a ``TokenSource`` replaces it: ahead of expiry, with jitter (``RefreshPolicy``).
    public let refreshAt: Double

    public init(
        value: String,
        tokenType: String,
        issuedTokenType: String?,
        scopes: [String],
        obtainedAt: Double,
        expiresAt: Double,
        refreshAt: Double
    ) {
        self.value = value
        self.tokenType = tokenType
        self.issuedTokenType = issuedTokenType
        self.scopes = scopes
        self.obtainedAt = obtainedAt
        self.expiresAt = expiresAt
        self.refreshAt = refreshAt
    }

    /// Seconds of validity left at `now`.
    public func remaining(at now: Double) -> Double { expiresAt - now }

    /// The token response as `wif exchange --output json` prints it: the exchanger's fields, `expires_in`
    /// as of `now`, and `expires_at` (RFC 3339) for scripts that read the file later.
    public func json(at now: Double) -> JSONValue {
        var fields: [String: JSONValue] = [
            "access_token": .string(value),
            "token_type": .string(tokenType),
            "expires_in": .number(max(0, (expiresAt - now).rounded(.down))),
            "expires_at": .string(Instant.format(expiresAt)),
        ]
        if let issuedTokenType { fields["issued_token_type"] = .string(issuedTokenType) }
        if !scopes.isEmpty { fields["scope"] = .string(scopes.joined(separator: " ")) }
        return .object(fields)
    }
}

/// When to replace a token: ahead of expiry by the smaller of `fraction` of its lifetime and `maximumMargin`
/// (as Google's and Azure's SDKs do), and a random extra of up to `jitter` of that margin, so that a
/// thousand workloads that started together do not all refresh in the same second. A token with less than
/// `minimumValidity` seconds left (or a tenth of its lifetime, if smaller) is not handed out at all.
public struct RefreshPolicy: Sendable, Hashable {
    public var fraction: Double
    public var maximumMargin: Double
    public var jitter: Double
    public var minimumValidity: Double

    public init(fraction: Double = 0.2, maximumMargin: Double = 300, jitter: Double = 0.5, minimumValidity: Double = 10) {
        self.fraction = fraction
        self.maximumMargin = maximumMargin
        self.jitter = jitter
        self.minimumValidity = minimumValidity
    }

    /// The refresh time of a token obtained at `obtainedAt` that expires at `expiresAt`; `random` is a
    /// number in 0...1.
    public func refreshAt(obtainedAt: Double, expiresAt: Double, random: Double) -> Double {
        let lifetime = max(0, expiresAt - obtainedAt)
        let margin = min(lifetime * fraction, maximumMargin)
        return max(obtainedAt, expiresAt - margin - margin * jitter * min(max(random, 0), 1))
    }
}

/// How a ``TokenSource`` retries what is worth retrying: up to `attempts` in all, waiting a random time up
/// to an exponentially growing bound (`initialBackoff` doubling to `maximumBackoff`; "full jitter"), or
/// the server's `Retry-After` when it names one (capped at `maximumBackoff`).
public struct RetryPolicy: Sendable, Hashable {
    public var attempts: Int
    public var initialBackoff: Duration
    public var maximumBackoff: Duration

    public init(attempts: Int = 5, initialBackoff: Duration = .milliseconds(500), maximumBackoff: Duration = .seconds(30)) {
        self.attempts = max(1, attempts)
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
    }

    /// The wait before attempt `attempt + 1` (`attempt` counts from 1), `random` in 0...1.
    public func delay(after attempt: Int, retryAfter: Double?, random: Double) -> Duration {
        if let retryAfter, retryAfter > 0 { return min(.milliseconds(Int64(retryAfter * 1000)), maximumBackoff) }
        let bound = min(initialBackoff * (1 << min(attempt - 1, 20)), maximumBackoff)
        return bound * min(max(random, 0), 1)
    }
}
