import HummingbirdCore
import NIOCore
import Synchronization
import WIFCore

/// Whether reading a request body has started, and whether it reached the end.
final class BodyProgress: Sendable {
    private let started = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)
    var isStarted: Bool { started.load(ordering: .acquiring) }
    var isFinished: Bool { finished.load(ordering: .acquiring) }
    func start() { started.store(true, ordering: .releasing) }
    func finish() { finished.store(true, ordering: .releasing) }
}

/// A request body that must arrive by a deadline: each chunk read after it fails with
/// ``ExchangeError/Code/requestTimeout``. A body that stops arriving altogether is closed by the server's
/// idle timeout; this catches the one that trickles in a byte at a time and so never looks idle
/// (security-cases.md case 14). It records in `progress` whether the body was read to its end.
struct DeadlineBody<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer
    let base: Base
    let deadline: ContinuousClock.Instant
    let progress: BodyProgress

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let deadline: ContinuousClock.Instant
        let progress: BodyProgress

        mutating func next() async throws -> ByteBuffer? {
            progress.start()
            guard let chunk = try await base.next() else {
                progress.finish()
                return nil
            }
            guard ContinuousClock.now <= deadline else {
                throw ExchangeError(.requestTimeout, "request body was not received in time")
            }
            return chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), deadline: deadline, progress: progress)
    }
}

extension RequestBody {
    /// This body, failing once `timeout` has passed from now, recording in `progress` when it has been
    /// read to its end.
    func deadline(_ timeout: Duration, progress: BodyProgress) -> RequestBody {
        RequestBody(asyncSequence: DeadlineBody(base: self, deadline: .now + timeout, progress: progress))
    }
}
