import Synchronization

/// The children of one metric family, one per set of label values, created on first use under a
/// `Mutex`. Callers keep the child they get, so the lock is taken once per label set, not per update.
///
/// Label values must come from bounded sets. As a guard against a caller that gets this wrong, at
/// most `maxLabelSets` children are made; later new label sets all share one child whose every
/// label value is `_overflow`, so memory stays bounded and the overflow is visible in the output.
final class LabelledChildren<Child: AnyObject & Sendable>: Sendable {
    static var overflowValue: String { "_overflow" }

    let labelNames: [String]
    private let maxLabelSets: Int
    private let makeChild: @Sendable () -> Child
    private let table = Mutex<(index: [[String]: Child], order: [(values: [String], child: Child)])>(([:], []))

    init(labelNames: [String], maxLabelSets: Int, makeChild: @escaping @Sendable () -> Child) {
        self.labelNames = labelNames
        self.maxLabelSets = maxLabelSets
        self.makeChild = makeChild
    }

    /// The child for `values`; a wrong number of values is a programming error.
    func child(_ values: [String]) -> Child {
        precondition(values.count == labelNames.count, "expected \(labelNames.count) label values")
        return table.withLock { table in
            if let child = table.index[values] { return child }
            var key = values
            if table.order.count >= maxLabelSets {
                key = Array(repeating: Self.overflowValue, count: values.count)
                if let child = table.index[key] { return child }
            }
            let child = makeChild()
            table.index[key] = child
            table.order.append((key, child))
            return child
        }
    }

    /// Every child with its label values, in creation order.
    func snapshot() -> [(values: [String], child: Child)] {
        table.withLock { $0.order }
    }
}
