import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A source of time, injected wherever expiry, buckets, bans or timestamps are decided,
/// so that tests run on a fake clock instead of sleeping.
public protocol PortalClock: Sendable {
    /// Nanoseconds on a clock that never goes backwards; only differences mean anything.
    func monotonicNanoseconds() -> UInt64
    /// Nanoseconds since 1970-01-01T00:00:00Z, as the wall clock says.
    func unixNanoseconds() -> Int64
}

extension PortalClock {
    /// Whole seconds since the Unix epoch, as the wall clock says.
    public func unixSeconds() -> Int64 { unixNanoseconds() / 1_000_000_000 }
}

/// The operating system's clocks: `CLOCK_MONOTONIC` and `CLOCK_REALTIME`.
public struct SystemClock: PortalClock {
    public init() {}

    public func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    public func unixNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
    }
}

/// A clock that moves only when told to; for tests.
public final class ManualClock: PortalClock {
    private let state: Mutex<(mono: UInt64, unix: Int64)>

    /// - Parameters:
    ///   - unixSeconds: the wall-clock reading to start from.
    ///   - monotonicNanoseconds: the monotonic reading to start from.
    public init(unixSeconds: Int64 = 1_767_225_600, monotonicNanoseconds: UInt64 = 1_000_000_000) {
        state = Mutex((monotonicNanoseconds, unixSeconds * 1_000_000_000))
    }

    public func monotonicNanoseconds() -> UInt64 { state.withLock { $0.mono } }
    public func unixNanoseconds() -> Int64 { state.withLock { $0.unix } }

    /// Moves both readings forward by `nanoseconds`.
    public func advance(nanoseconds: UInt64) {
        state.withLock {
            $0.mono &+= nanoseconds
            $0.unix &+= Int64(nanoseconds)
        }
    }

    /// Moves both readings forward by whole or fractional seconds.
    public func advance(seconds: Double) {
        precondition(seconds >= 0, "a clock does not go backwards")
        advance(nanoseconds: UInt64(seconds * 1_000_000_000))
    }
}
