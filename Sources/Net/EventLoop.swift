/// One epoll loop on one thread. (Interface placeholder: the implementation lands with the HTTP core.)
public final class EventLoop: @unchecked Sendable {
    init() {}

    /// Runs `task` on this loop's thread; callable from any thread.
    public func execute(_ task: @escaping @Sendable () -> Void) { task() }

    /// Whether the caller is on this loop's thread.
    public var inEventLoop: Bool { true }
}
