import Foundation
import PortalCore

/// What the owner of an audit background thread shares with it: a request to stop, and the thread's word that it
/// has.
protocol AuditThreadState {
    var stopping: Bool { get set }
    var done: Bool { get }
}

/// A loop that runs on a thread of its own until its state says `stopping`, then sets `done`.
protocol AuditThreadLoop: AnyObject, Sendable {
    func run()
}

extension ConditionLock where Value: AuditThreadState {
    /// Starts `loop` on a new thread named `name`.
    func start(_ loop: some AuditThreadLoop, name: String) {
        let thread = Thread { loop.run() }
        thread.name = name
        thread.start()
    }

    /// Asks the thread to stop after its current step and waits for it, at most `timeoutMilliseconds`.
    /// - Returns: whether it stopped in time.
    func stopThread(timeoutMilliseconds: Int) -> Bool {
        withLock { $0.stopping = true }
        broadcast()
        return wait(
            until: { $0.done }, timeoutNanoseconds: UInt64(max(0, timeoutMilliseconds)) * 1_000_000
        ) { _, done in done }
    }
}
