import Synchronization
public import WIFCore

/// A clock that says what the test tells it.
public final class FixedClock: WallClock {
    private let current: Mutex<Double>

    public init(_ now: Double = 1_800_000_000) {
        current = Mutex(now)
    }

    public func now() -> Double { current.withLock { $0 } }

    public func set(_ now: Double) { current.withLock { $0 = now } }

    public func advance(by seconds: Double) { current.withLock { $0 += seconds } }
}
