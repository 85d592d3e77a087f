import Synchronization

/// The process's metrics, written out in the Prometheus text exposition format 0.0.4.
///
/// Register families at start-up; a bad or duplicate name, a counter not ending in `_total`, or
/// bad buckets is a programming error and stops the process (`precondition`). Registration and
/// scrapes take a lock; updates through a cached child never do.
public final class MetricsRegistry: Sendable {
    private enum Family: Sendable {
        case counter(Counter)
        case gauge(Gauge)
        case computed(ComputedGauge)
        case histogram(Histogram)
    }

    private let families = Mutex<[(name: String, family: Family)]>([])
    private let maxLabelSets: Int

    /// - Parameter maxLabelSets: label sets per family before new ones share an `_overflow` child;
    ///   default 1,000.
    public init(maxLabelSets: Int = 1_000) {
        precondition(maxLabelSets >= 1, "maxLabelSets must be positive")
        self.maxLabelSets = maxLabelSets
    }

    /// Registers a counter family. - Precondition: `name` is new, valid, and ends in `_total`.
    public func counter(_ name: String, help: String, labelNames: [String] = []) -> Counter {
        let counter = Counter(name: name, help: help, labelNames: labelNames, maxLabelSets: maxLabelSets)
        add(name, .counter(counter))
        return counter
    }

    /// Registers a gauge family. - Precondition: `name` is new and valid.
    public func gauge(_ name: String, help: String, labelNames: [String] = []) -> Gauge {
        let gauge = Gauge(name: name, help: help, labelNames: labelNames, maxLabelSets: maxLabelSets)
        add(name, .gauge(gauge))
        return gauge
    }

    /// Registers a gauge without labels whose value `compute` returns at each scrape; `compute`
    /// runs under the registry's lock, so it must be quick and must not touch the registry.
    public func gauge(_ name: String, help: String, compute: @escaping @Sendable () -> Double) {
        add(name, .computed(ComputedGauge(name: name, help: help, compute: compute)))
    }

    /// Registers a histogram family.
    ///
    /// - Parameter buckets: finite, increasing upper bounds; `+Inf` is added. Default:
    ///   `Histogram.defaultDurationBuckets` (seconds).
    /// - Precondition: `name` is new and valid; no label is named `le`.
    public func histogram(
        _ name: String,
        help: String,
        labelNames: [String] = [],
        buckets: [Double] = Histogram.defaultDurationBuckets
    ) -> Histogram {
        let histogram = Histogram(
            name: name, help: help, labelNames: labelNames, buckets: buckets, maxLabelSets: maxLabelSets)
        add(name, .histogram(histogram))
        return histogram
    }

    /// Every family, in registration order, as Prometheus text (`text/plain; version=0.0.4`).
    public func exposition() -> String {
        families.withLock { families in
            var out = ""
            for (_, family) in families {
                switch family {
                case .counter(let counter): counter.write(to: &out)
                case .gauge(let gauge): gauge.write(to: &out)
                case .computed(let gauge): gauge.write(to: &out)
                case .histogram(let histogram): histogram.write(to: &out)
                }
            }
            return out
        }
    }

    private func add(_ name: String, _ family: Family) {
        families.withLock { families in
            precondition(!families.contains { $0.name == name }, "metric \(name) registered twice")
            families.append((name, family))
        }
    }
}
