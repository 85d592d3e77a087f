import Synchronization

/// A Prometheus counter family: a value per label set that only goes up.
///
/// Get a child once with `labels(_:)` and keep it; `Child.increment(by:)` is one atomic add.
public final class Counter: Sendable {
    /// One label set's counter; lock-free.
    public final class Child: Sendable {
        private let count = Atomic<UInt64>(0)

        /// Adds `amount` (default 1), wrapping at 2^64.
        public func increment(by amount: UInt64 = 1) {
            count.wrappingAdd(amount, ordering: .relaxed)
        }

        /// The current count.
        public var value: UInt64 { count.load(ordering: .relaxed) }
    }

    /// The metric name; ends in `_total`.
    public let name: String
    /// The HELP text.
    public let help: String
    let children: LabelledChildren<Child>

    init(name: String, help: String, labelNames: [String], maxLabelSets: Int) {
        PrometheusText.checkNames(name, labelNames: labelNames)
        precondition(name.hasSuffix("_total"), "counter \(name) must end in _total")
        self.name = name
        self.help = help
        self.children = LabelledChildren(labelNames: labelNames, maxLabelSets: maxLabelSets) { Child() }
    }

    /// The child for these label values, in the order of the family's label names.
    public func labels(_ values: String...) -> Child { children.child(values) }

    /// The child for these label values, in the order of the family's label names.
    public func labels(_ values: [String]) -> Child { children.child(values) }

    /// Increments the family's only child; for a family without labels.
    public func increment(by amount: UInt64 = 1) { children.child([]).increment(by: amount) }

    func write(to out: inout String) {
        out += PrometheusText.header(name: name, help: help, type: "counter")
        for (values, child) in children.snapshot() {
            out += "\(name)\(PrometheusText.labelSet(names: children.labelNames, values: values)) \(child.value)\n"
        }
    }
}
