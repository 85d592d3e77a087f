/// Identifies one object's state kept on each event loop (`EventLoop.local(_:make:)`).
public struct EventLoopLocalKey: Sendable, Hashable {
    let value: Int

    /// A key no other object uses.
    public init() {
        value = HTTPServer.ids.wrappingAdd(1, ordering: .relaxed).oldValue
    }
}

extension EventLoop {
    /// This loop's instance of the state under `key`, made by `make` on first use. Loop thread only, so the
    /// state needs no lock: one instance per loop, touched only there.
    public func local<T: AnyObject>(_ key: EventLoopLocalKey, make: () -> T) -> T {
        precondition(inEventLoop, "loop-local state is touched only on its loop's thread")
        if let existing = storage[key.value] as? T { return existing }
        let made = make()
        storage[key.value] = made
        return made
    }

    /// This loop's instance under `key`, if one was made. Loop thread only.
    public func existingLocal<T: AnyObject>(_ key: EventLoopLocalKey, as type: T.Type) -> T? {
        precondition(inEventLoop, "loop-local state is touched only on its loop's thread")
        return storage[key.value] as? T
    }

    /// Forgets this loop's instance under `key`. Loop thread only.
    public func removeLocal(_ key: EventLoopLocalKey) {
        precondition(inEventLoop, "loop-local state is touched only on its loop's thread")
        storage[key.value] = nil
    }
}
