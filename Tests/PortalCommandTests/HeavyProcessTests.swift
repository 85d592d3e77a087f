import Foundation
import Testing

/// The process tests that load the machine for tens of seconds (slowhttptest with 2,000 connections, gigabytes of
/// streamed bodies, testssl.sh), one at a time, so that none of them measures the others.
///
/// Their blocking work runs on threads of their own (`onOwnThread`), never on the few threads Swift Testing runs
/// every test on: a test blocked there for 30 s would hold up unrelated tests until their own timeouts passed.
@Suite("Process tests under load, one at a time", .serialized)
struct HeavyProcessTests {}

/// A failure inside blocking test work, reported by the test once it has the result.
struct ProbeFailure: Error, CustomStringConvertible {
    let description: String
}

/// Runs `body` on a thread of its own and returns its result.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}
