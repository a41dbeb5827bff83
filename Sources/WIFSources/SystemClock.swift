import FoundationEssentials
public import WIFCore

/// The real wall clock.
public struct SystemClock: WallClock {
    public init() {}
    public func now() -> Double { Date().timeIntervalSince1970 }
}
