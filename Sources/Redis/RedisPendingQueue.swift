import RESP

/// One command waiting for its reply.
struct RedisPending {
    /// What the reply answers: the connection's own handshake, or a caller's command.
    enum Role {
        case auth, select, command
    }

    let role: Role
    /// Monotonic nanoseconds after which the connection is taken for stuck.
    let deadline: UInt64
    let completion: RedisCompletion?
}

/// Replies are matched to commands in order, so the waiting commands are a FIFO: an array with a moving
/// head, compacted when the head has moved past half of it. Loop thread only.
struct RedisPendingQueue {
    private var items: [RedisPending] = []
    private var head = 0

    var count: Int { items.count - head }
    var isEmpty: Bool { head == items.count }

    mutating func append(_ pending: RedisPending) {
        items.append(pending)
    }

    mutating func popFirst() -> RedisPending? {
        guard head < items.count else { return nil }
        let first = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: items.capacity <= 1024)
            head = 0
        } else if head >= 64 && head * 2 >= items.count {
            items.removeSubrange(0..<head)
            head = 0
        }
        return first
    }

    /// The earliest deadline among the waiting commands.
    var earliestDeadline: UInt64? {
        items[head...].lazy.map(\.deadline).min()
    }

    /// Takes every waiting command out, oldest first.
    mutating func removeAll() -> [RedisPending] {
        let all = Array(items[head...])
        items.removeAll()
        head = 0
        return all
    }
}
