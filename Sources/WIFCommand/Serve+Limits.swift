import WIFServer

extension Serve {
    /// The rate limits, concurrency cap and timeouts from flags or their environment variables.
    func applyLimits(to settings: inout ServerSettings) throws {
        func rate(_ flag: String?, _ variable: String) throws -> RateLimit? {
            guard let text = flag ?? environment(variable) else { return nil }
            guard let rate = RateLimit(parsing: text) else {
                throw CommandFailure(
                    "\(variable) / --\(Self.flagName(variable)) \(text.debugDescription): expected RATE/BURST (e.g. 20/100), RATE or off"
                )
            }
            return rate
        }
        func seconds(_ flag: Int?, _ variable: String, allowZero: Bool) throws -> Int? {
            guard
                let value = try flag
                    ?? environment(variable).map({ text in
                        guard let number = Int(text) else { throw CommandFailure("\(variable) is not a whole number") }
                        return number
                    })
            else { return nil }
            guard value >= (allowZero ? 0 : 1), value <= 3600 else {
                throw CommandFailure("--\(Self.flagName(variable)) must be between \(allowZero ? 0 : 1) and 3600")
            }
            return value
        }
        if let client = try rate(rateLimitClient, "WIF_RATE_LIMIT_CLIENT") { settings.limits.perClient = client }
        if let subject = try rate(rateLimitSubject, "WIF_RATE_LIMIT_SUBJECT") { settings.limits.perSubject = subject }
        if let cap = try seconds(maxConcurrentRequests, "WIF_MAX_CONCURRENT_REQUESTS", allowZero: true) {
            settings.limits.maxConcurrentRequests = cap
        }
        if let idle = try seconds(idleTimeout, "WIF_IDLE_TIMEOUT", allowZero: false) { settings.idleTimeout = .seconds(idle) }
        if let read = try seconds(readTimeout, "WIF_READ_TIMEOUT", allowZero: false) { settings.requestReadTimeout = .seconds(read) }
    }

    /// `WIF_RATE_LIMIT_CLIENT` → `rate-limit-client`.
    static func flagName(_ variable: String) -> String {
        String(variable.dropFirst("WIF_".count).lowercased().map { $0 == "_" ? "-" : $0 })
    }
}
