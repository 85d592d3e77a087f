import Limits
import Testing

@Suite("RateLimitDecision guarantees")
struct RateLimitDecisionTests {
    @Test("hostile field values are clamped: remaining >= 0, retryAfter >= 1 when denied, 0 when allowed")
    func clamping() {
        let table: [(allowed: Bool, remaining: Int, retry: Int, wantRemaining: Int, wantRetry: Int)] = [
            (false, 5, 0, 0, 1),
            (false, -3, -7, 0, 1),
            (true, -1, 9, 0, 0),
            (true, 4, 0, 4, 0),
        ]
        for row in table {
            let decision = RateLimitDecision(
                allowed: row.allowed, limit: 3, remaining: row.remaining, resetSeconds: -1,
                retryAfterSeconds: row.retry)
            #expect(decision.remaining == row.wantRemaining)
            #expect(decision.retryAfterSeconds == row.wantRetry)
            #expect(decision.resetSeconds == 0)
        }
    }
}
