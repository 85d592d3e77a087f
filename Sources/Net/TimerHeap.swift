/// Identifies a timer scheduled on an `EventLoop`, for `cancelTimer(_:)`.
public struct TimerID: Sendable, Hashable {
    let value: UInt64
}

/// A binary min-heap of deadlines; cancelled timers are dropped lazily when they reach the top.
struct TimerHeap {
    private var heap: [(deadline: UInt64, id: UInt64)] = []
    private var tasks: [UInt64: () -> Void] = [:]
    private var nextID: UInt64 = 1

    var isEmpty: Bool { tasks.isEmpty }

    mutating func insert(deadline: UInt64, _ task: @escaping () -> Void) -> TimerID {
        let id = nextID
        nextID += 1
        tasks[id] = task
        heap.append((deadline, id))
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if heap[parent].deadline <= heap[i].deadline { break }
            heap.swapAt(parent, i)
            i = parent
        }
        return TimerID(value: id)
    }

    mutating func cancel(_ id: TimerID) {
        tasks[id.value] = nil
    }

    /// The earliest live deadline, dropping cancelled ones on top.
    mutating func earliestDeadline() -> UInt64? {
        while let top = heap.first {
            if tasks[top.id] != nil { return top.deadline }
            removeTop()
        }
        return nil
    }

    /// Removes and returns the tasks whose deadline is at or before `now`.
    mutating func popDue(now: UInt64) -> [() -> Void] {
        var due: [() -> Void] = []
        while let top = heap.first, top.deadline <= now {
            removeTop()
            if let task = tasks.removeValue(forKey: top.id) { due.append(task) }
        }
        return due
    }

    private mutating func removeTop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var smallest = i
            if l < heap.count, heap[l].deadline < heap[smallest].deadline { smallest = l }
            if r < heap.count, heap[r].deadline < heap[smallest].deadline { smallest = r }
            if smallest == i { return }
            heap.swapAt(i, smallest)
            i = smallest
        }
    }
}
