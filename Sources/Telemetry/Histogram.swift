import Synchronization

/// A Prometheus histogram family with fixed bucket upper bounds.
///
/// `observe(_:)` is lock-free: one atomic add on the bucket the value falls in (bounds are
/// inclusive: a value equal to a bound lands in that bucket) and a compare-and-swap on the sum's
/// `Double` bits. The exposition makes buckets cumulative, adds `le="+Inf"`, and derives `_count`
/// from the same bucket reads, so `_count` always equals the `+Inf` bucket.
public final class Histogram: Sendable {
    /// Bounds in seconds for `http_request_duration_seconds`: 1 ms to 10 s.
    public static let defaultDurationBuckets: [Double] = [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]

    private final class Cell: Sendable {
        let count = Atomic<UInt64>(0)
    }

    /// One label set's histogram; lock-free.
    public final class Child: Sendable {
        private let bounds: [Double]
        // One cell per bound plus one for values above the last bound.
        private let cells: [Cell]
        private let sumBits = Atomic<UInt64>(0.0.bitPattern)

        init(bounds: [Double]) {
            self.bounds = bounds
            self.cells = (0...bounds.count).map { _ in Cell() }
        }

        /// Records one value (e.g. seconds). NaN is ignored, so one bad reading cannot poison `_sum`.
        public func observe(_ value: Double) {
            guard !value.isNaN else { return }
            var index = 0
            while index < bounds.count && value > bounds[index] { index += 1 }
            cells[index].count.wrappingAdd(1, ordering: .relaxed)
            var current = sumBits.load(ordering: .relaxed)
            while true {
                let next = (Double(bitPattern: current) + value).bitPattern
                let (exchanged, original) = sumBits.weakCompareExchange(
                    expected: current, desired: next, ordering: .relaxed)
                if exchanged { return }
                current = original
            }
        }

        /// Records a duration given in nanoseconds, as seconds.
        public func observe(nanoseconds: UInt64) { observe(Double(nanoseconds) / 1e9) }

        /// Cumulative counts per bound, then the `+Inf` count; and the sum.
        func read() -> (cumulative: [UInt64], sum: Double) {
            var running: UInt64 = 0
            let cumulative = cells.map { cell in
                running &+= cell.count.load(ordering: .relaxed)
                return running
            }
            return (cumulative, Double(bitPattern: sumBits.load(ordering: .relaxed)))
        }
    }

    /// The metric name (without `_bucket`, `_sum`, `_count`).
    public let name: String
    /// The HELP text.
    public let help: String
    /// The finite, strictly increasing upper bounds.
    public let buckets: [Double]
    let children: LabelledChildren<Child>

    init(name: String, help: String, labelNames: [String], buckets: [Double], maxLabelSets: Int) {
        PrometheusText.checkNames(name, labelNames: labelNames, reserved: ["le"])
        let finite = buckets.filter { $0 != .infinity }
        precondition(!finite.isEmpty && finite.allSatisfy(\.isFinite), "histogram \(name) needs finite buckets")
        precondition(zip(finite, finite.dropFirst()).allSatisfy { $0 < $1 }, "buckets of \(name) must increase")
        self.name = name
        self.help = help
        self.buckets = finite
        self.children = LabelledChildren(labelNames: labelNames, maxLabelSets: maxLabelSets) {
            Child(bounds: finite)
        }
    }

    /// The child for these label values, in the order of the family's label names.
    public func labels(_ values: String...) -> Child { children.child(values) }

    /// The family's only child; for a family without labels.
    public var unlabelled: Child { children.child([]) }

    func write(to out: inout String) {
        out += PrometheusText.header(name: name, help: help, type: "histogram")
        let names = children.labelNames
        let bounds = buckets.map(PrometheusText.format) + ["+Inf"]
        for (values, child) in children.snapshot() {
            let (cumulative, sum) = child.read()
            for (bound, count) in zip(bounds, cumulative) {
                out += "\(name)_bucket\(PrometheusText.labelSet(names: names, values: values, extra: ("le", bound)))"
                out += " \(count)\n"
            }
            let labels = PrometheusText.labelSet(names: names, values: values)
            out += "\(name)_sum\(labels) \(PrometheusText.format(sum))\n"
            out += "\(name)_count\(labels) \(cumulative.last ?? 0)\n"
        }
    }
}
