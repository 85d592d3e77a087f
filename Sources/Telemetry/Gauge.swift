import Synchronization

/// A Prometheus gauge family: a value per label set that goes up and down.
///
/// Values are `Double`s kept as bit patterns in an `Atomic<UInt64>`; `set` is one store, `add` a
/// compare-and-swap loop. Get a child once with `labels(_:)` and keep it.
public final class Gauge: Sendable {
    /// One label set's gauge; lock-free.
    public final class Child: Sendable {
        private let bits = Atomic<UInt64>(0.0.bitPattern)

        /// Replaces the value.
        public func set(_ value: Double) { bits.store(value.bitPattern, ordering: .relaxed) }

        /// Adds `amount` (default 1; negative to subtract).
        public func add(_ amount: Double = 1) {
            var current = bits.load(ordering: .relaxed)
            while true {
                let next = (Double(bitPattern: current) + amount).bitPattern
                let (exchanged, original) = bits.weakCompareExchange(
                    expected: current, desired: next, ordering: .relaxed)
                if exchanged { return }
                current = original
            }
        }

        /// The current value.
        public var value: Double { Double(bitPattern: bits.load(ordering: .relaxed)) }
    }

    /// The metric name.
    public let name: String
    /// The HELP text.
    public let help: String
    let children: LabelledChildren<Child>

    init(name: String, help: String, labelNames: [String], maxLabelSets: Int) {
        PrometheusText.checkNames(name, labelNames: labelNames)
        self.name = name
        self.help = help
        self.children = LabelledChildren(labelNames: labelNames, maxLabelSets: maxLabelSets) { Child() }
    }

    /// The child for these label values, in the order of the family's label names.
    public func labels(_ values: String...) -> Child { children.child(values) }

    /// The family's only child; for a family without labels.
    public var unlabelled: Child { children.child([]) }

    func write(to out: inout String) {
        out += PrometheusText.header(name: name, help: help, type: "gauge")
        for (values, child) in children.snapshot() {
            let labels = PrometheusText.labelSet(names: children.labelNames, values: values)
            out += "\(name)\(labels) \(PrometheusText.format(child.value))\n"
        }
    }
}

/// A gauge without labels whose value is computed at scrape time, e.g. active bans or tracked keys.
final class ComputedGauge: Sendable {
    let name: String
    let help: String
    private let compute: @Sendable () -> Double

    init(name: String, help: String, compute: @escaping @Sendable () -> Double) {
        PrometheusText.checkNames(name, labelNames: [])
        self.name = name
        self.help = help
        self.compute = compute
    }

    func write(to out: inout String) {
        out += PrometheusText.header(name: name, help: help, type: "gauge")
        out += "\(name) \(PrometheusText.format(compute()))\n"
    }
}
