public import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// A Hummingbird application running in the background on an ephemeral loopback port.
public final class LoopbackServer: Sendable {
    /// The port the server listens on.
    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    private init(port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.group = group
        self.task = task
    }

    /// `http://127.0.0.1:<port>`.
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Starts the application `make` builds; `make` must pass the given closure as `onServerRunning` and
    /// bind `127.0.0.1` port 0. Returns once the server accepts connections.
    public static func start<App: ApplicationProtocol>(
        _ make: (@escaping @Sendable (any Channel) async -> Void) throws -> App
    ) async throws -> LoopbackServer {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = try make { channel in
            continuation.yield(channel.localAddress?.port ?? 0)
            continuation.finish()
        }
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: app)], gracefulShutdownSignals: [], logger: Logger(label: "wif-loopback-server"))
        )
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            task.cancel()
            _ = try await task.value
            throw LoopbackServerError.didNotStart
        }
        return LoopbackServer(port: port, group: group, task: task)
    }

    /// A loopback port that was free a moment ago, for a server that must know its own URL before it starts
    /// (wif with TLS names itself `https://127.0.0.1:PORT`).
    public static func reservePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 0
        try await channel.close()
        guard port > 0 else { throw LoopbackServerError.didNotStart }
        return port
    }

    /// Stops the server gracefully and waits for it to finish.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}

enum LoopbackServerError: Error {
    case didNotStart
}
