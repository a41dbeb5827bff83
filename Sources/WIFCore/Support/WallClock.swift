/// The source of "now" for services; the core itself only ever receives `now` as an argument.
public protocol WallClock: Sendable {
    /// Seconds since 1970-01-01T00:00:00Z.
    func now() -> Double
}
