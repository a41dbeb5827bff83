public import NIOCore
import NIOPosix

/// A plain TCP client for tests of how the server treats a connection itself: bytes written verbatim and
/// slowly (slowloris), and what the server sends back before it closes.
public enum RawConnection {
    /// What the server did with one connection.
    public struct Result: Sendable {
        /// Everything the server sent.
        public let received: String
        /// When the server closed the connection, measured from just before the connect; nil if it was still
        /// open at the end of `observe`.
        public let closedAfter: Duration?
    }

    /// Connects to `127.0.0.1:port`, writes each chunk after its delay (stopping quietly once the server
    /// has closed), and reads until the server closes the connection or `observe` has passed.
    public static func run(port: Int, writes: [(delay: Duration, text: String)], observe: Duration) async throws -> Result {
        // Measured from before the connect: the server's timers start when it accepts.
        let started = ContinuousClock.now
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await withThrowingTaskGroup(of: Result?.self) { group in
                group.addTask {
                    for write in writes {
                        try await Task.sleep(for: write.delay)
                        do { try await outbound.write(ByteBuffer(string: write.text)) } catch { break }
                    }
                    return nil
                }
                let received = Locked<[UInt8]>([])
                group.addTask {
                    do {
                        for try await chunk in inbound { received.withLock { $0 += Array(buffer: chunk) } }
                    } catch {
                        // A reset counts as closed too.
                    }
                    return Result(received: String(decoding: received.withLock { $0 }, as: UTF8.self), closedAfter: ContinuousClock.now - started)
                }
                group.addTask {
                    try await Task.sleep(for: observe)
                    return Result(received: String(decoding: received.withLock { $0 }, as: UTF8.self), closedAfter: nil)
                }
                var outcome: Result?
                while outcome == nil, let next = try await group.next() { outcome = next }
                group.cancelAll()
                return outcome ?? Result(received: "", closedAfter: nil)
            }
        }
    }
}
