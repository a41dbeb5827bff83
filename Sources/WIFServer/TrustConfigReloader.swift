public import CoreMetrics
public import Logging
import NIOPosix
public import ServiceLifecycle
import Synchronization
import UnixSignals
public import WIFCore

/// Reloads the trust-config when its folder changes (checked every ``interval``: file names and each file's
/// stamp, so a Kubernetes ConfigMap's symlink swap is seen) and on SIGHUP. A new config is loaded and
/// checked in full before it is swapped in; a broken one is logged and the last good one keeps serving.
public struct TrustConfigReloader: Service {
    public let live: LiveExchanger
    let stamp: @Sendable () -> [String: String]
    let load: @Sendable () throws -> TrustConfig
    let interval: Duration
    let handleSignals: Bool
    let logger: Logger
    let metrics: any MetricsFactory
    private let lastStamp: LastStamp
    /// One reload at a time (the watcher and SIGHUP may ask together): the newest files always win.
    private let reloading = ReloadLock()

    /// - Parameters:
    ///   - stamp: what identifies the folder's content now (compared between checks).
    ///   - load: loads and fully checks the folder (throws with every problem).
    public init(
        live: LiveExchanger,
        interval: Duration = .seconds(1),
        handleSignals: Bool = true,
        logger: Logger,
        metrics: (any MetricsFactory)? = nil,
        stamp: @escaping @Sendable () -> [String: String],
        load: @escaping @Sendable () throws -> TrustConfig
    ) {
        self.live = live
        self.interval = interval
        self.handleSignals = handleSignals
        self.logger = logger
        self.metrics = metrics ?? MetricsSystem.factory
        self.stamp = stamp
        self.load = load
        self.lastStamp = LastStamp(stamp())
        Gauge(label: "wif_config_generation", factory: self.metrics).record(live.generation)
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: interval)
                        if lastStamp.differs(stamp()) { await reloadOffLoop(reason: "the trust-config folder changed") }
                    }
                }
                if handleSignals {
                    let signals = await UnixSignalsSequence(trapping: .sighup)
                    logger.info("watching the trust-config folder; SIGHUP reloads it")
                    group.addTask {
                        for await _ in signals { await reloadOffLoop(reason: "SIGHUP") }
                    }
                }
                await group.waitForAll()
            }
        }
    }

    /// ``reload(reason:)`` on NIO's pool for blocking work, never on an event loop: reading and compiling a
    /// large folder takes long enough to hold up every request on the loop that would run it.
    private func reloadOffLoop(reason: String) async {
        _ = try? await NIOThreadPool.singleton.runIfActive { reload(reason: reason) }
    }

    /// Loads the folder and swaps the new config in when it loads; returns whether it did.
    @discardableResult
    public func reload(reason: String) -> Bool {
        reloading.lock.withLock { _ in reloadLocked(reason: reason) }
    }

    private func reloadLocked(reason: String) -> Bool {
        lastStamp.swap(stamp())
        let config: TrustConfig
        do {
            config = try load()
        } catch {
            Counter(label: "wif_config_reloads_total", dimensions: [("result", "failure")], factory: metrics).increment()
            logger.error(
                "trust-config not reloaded; the last good config keeps serving",
                metadata: ["reason": "\(reason)", "generation": "\(live.generation)", "problems": "\(error)"]
            )
            return false
        }
        let generation = live.replace(config: config)
        Counter(label: "wif_config_reloads_total", dimensions: [("result", "success")], factory: metrics).increment()
        Gauge(label: "wif_config_generation", factory: metrics).record(generation)
        logger.info(
            "trust-config reloaded",
            metadata: [
                "reason": "\(reason)", "generation": "\(generation)", "version": "\(config.version)", "issuers": "\(config.issuers.count)",
                "policies": "\(config.policies.count)",
            ]
        )
        return true
    }
}

/// Serializes reloads.
private final class ReloadLock: Sendable {
    let lock = Mutex(())
}

/// The folder stamp seen last.
private final class LastStamp: Sendable {
    private let value: Mutex<[String: String]>
    init(_ stamp: [String: String]) { value = Mutex(stamp) }

    /// Whether `stamp` differs from the one stored.
    func differs(_ stamp: [String: String]) -> Bool {
        value.withLock { $0 != stamp }
    }

    /// Stores `stamp`; returns whether it differs from the one before.
    @discardableResult
    func swap(_ stamp: [String: String]) -> Bool {
        value.withLock { old in
            defer { old = stamp }
            return old != stamp
        }
    }
}
