public import ServiceLifecycle
public import WIFCore

/// Runs beside the server: fetches every issuer's keys at start, then keeps them refreshed on schedule and
/// re-reads key files that change, so that requests never wait for a scheduled refresh.
public struct IssuerKeyRefresher: Service {
    public let store: IssuerKeyStore
    public let issuers: @Sendable () -> [TrustedIssuer]
    public let interval: Duration

    public init(store: IssuerKeyStore, interval: Duration = .seconds(1), issuers: @escaping @Sendable () -> [TrustedIssuer]) {
        self.store = store
        self.interval = interval
        self.issuers = issuers
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await store.maintain(issuers())
                try? await Task.sleep(for: interval)
            }
        }
    }
}
