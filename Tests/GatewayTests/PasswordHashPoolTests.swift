import Dispatch
import Foundation
import Gateway
import Synchronization
import Testing

/// The pool's admission and order, with jobs held on semaphores instead of hashing.
@Suite("PasswordHashPool admission and fairness")
struct PasswordHashPoolTests {
    @Test("one check per address, bounded lanes, and clean addresses served before suspect ones")
    func admissionAndOrder() {
        let pool = PasswordHashPool(threadCount: 1, maxPending: 2, maxSuspectPending: 2, maxPerAddress: 1)
        let gate = DispatchSemaphore(value: 0)
        let order = Mutex<[String]>([])
        let finished = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        func job(_ name: String) -> @Sendable (@escaping @Sendable () -> Void) -> Void {
            { _ in
                started.signal()
                gate.wait()
                order.withLock { $0.append(name) }
                finished.signal()
            }
        }
        pool.noteFailure(address: "bad-1")
        pool.noteFailure(address: "bad-2")
        pool.noteFailure(address: "bad-3")
        // The single thread takes the first suspect job and blocks on the gate.
        #expect(pool.submit(address: "bad-1", job("bad-1")) == .accepted)
        started.wait()
        #expect(pool.submit(address: "bad-1", job("bad-1 again")) == .addressBusy)
        #expect(pool.submit(address: "bad-2", job("bad-2")) == .accepted)
        #expect(pool.submit(address: "bad-3", job("bad-3")) == .full)
        // Clean addresses have their own places, and go first once the thread is free.
        #expect(pool.submit(address: "good-1", job("good-1")) == .accepted)
        #expect(pool.submit(address: "good-2", job("good-2")) == .accepted)
        #expect(pool.submit(address: "good-3", job("good-3")) == .full)
        for _ in 0..<4 { gate.signal() }
        for _ in 0..<4 { finished.wait() }
        #expect(order.withLock { $0 } == ["bad-1", "good-1", "good-2", "bad-2"])
        // All places are free again.
        for _ in 0..<100 where pool.load > 0 { Thread.sleep(forTimeInterval: 0.01) }
        #expect(pool.load == 0)
        #expect(pool.submit(address: "bad-1", { _ in }) == .accepted)
    }
}
