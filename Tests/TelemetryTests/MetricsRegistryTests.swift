import Foundation
import Synchronization
import Telemetry
import Testing

/// Runs `body` on `count` real threads at once and waits for all of them.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        Thread {
            body(index)
            group.leave()
        }.start()
    }
    group.wait()
}

/// A registry with one of each kind and some hostile label values.
private func sampleRegistry() -> MetricsRegistry {
    let registry = MetricsRegistry()
    let requests = registry.counter(
        "http_requests_total", help: "Requests by method, route and status.\nSecond line \\ here.",
        labelNames: ["method", "route", "status"])
    requests.labels("GET", "/api/v1/events", "200").increment(by: 3)
    requests.labels("POST", "quote\" back\\slash\nnewline", "429").increment()
    registry.counter("auth_failures_total", help: "Failed authentications.").increment(by: 2)
    let circuit = registry.gauge("upstream_circuit_open", help: "1 when open.", labelNames: ["upstream"])
    circuit.labels("events").set(1)
    registry.gauge("active_bans", help: "Bans in force.") { 4 }
    let duration = registry.histogram(
        "http_request_duration_seconds", help: "Request duration.", labelNames: ["route"])
    for value in [0.0005, 0.001, 0.0011, 0.3, 11] {
        duration.labels("/api/v1/events").observe(value)
    }
    return registry
}

@Suite("MetricsRegistry exposition")
struct MetricsRegistryTests {
    @Test("exposition has HELP and TYPE lines, escaped labels and help, and cumulative buckets")
    func structure() {
        let text = sampleRegistry().exposition()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(text.hasSuffix("\n"))
        let help = "# HELP http_requests_total Requests by method, route and status.\\nSecond line \\\\ here."
        #expect(lines.contains(help))
        #expect(lines.contains("# TYPE http_requests_total counter"))
        #expect(lines.contains("http_requests_total{method=\"GET\",route=\"/api/v1/events\",status=\"200\"} 3"))
        #expect(
            lines.contains(
                "http_requests_total{method=\"POST\",route=\"quote\\\" back\\\\slash\\nnewline\",status=\"429\"} 1"))
        #expect(lines.contains("auth_failures_total 2"))
        #expect(lines.contains("upstream_circuit_open{upstream=\"events\"} 1"))
        #expect(lines.contains("# TYPE active_bans gauge"))
        #expect(lines.contains("active_bans 4"))
        #expect(lines.contains("# TYPE http_request_duration_seconds histogram"))
        let buckets = lines.filter { $0.hasPrefix("http_request_duration_seconds_bucket") }
        #expect(buckets.count == 14)
        #expect(buckets.first == "http_request_duration_seconds_bucket{route=\"/api/v1/events\",le=\"0.001\"} 2")
        #expect(buckets.contains("http_request_duration_seconds_bucket{route=\"/api/v1/events\",le=\"0.0025\"} 3"))
        #expect(buckets.contains("http_request_duration_seconds_bucket{route=\"/api/v1/events\",le=\"0.25\"} 3"))
        #expect(buckets.contains("http_request_duration_seconds_bucket{route=\"/api/v1/events\",le=\"0.5\"} 4"))
        #expect(buckets.contains("http_request_duration_seconds_bucket{route=\"/api/v1/events\",le=\"10\"} 4"))
        #expect(buckets.last == "http_request_duration_seconds_bucket{route=\"/api/v1/events\",le=\"+Inf\"} 5")
        #expect(lines.contains("http_request_duration_seconds_count{route=\"/api/v1/events\"} 5"))
        #expect(lines.contains { $0.hasPrefix("http_request_duration_seconds_sum{route=\"/api/v1/events\"} 11.30") })
    }

    @Test("promtool check metrics accepts the exposition")
    func promtoolAccepts() throws {
        let promtool = "/usr/bin/promtool"
        #expect(FileManager.default.isExecutableFile(atPath: promtool), "promtool must be installed")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: promtool)
        process.arguments = ["check", "metrics"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(sampleRegistry().exposition().utf8))
        try input.fileHandleForWriting.close()
        let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "promtool said: \(report)")
        #expect(report.isEmpty, "promtool lint: \(report)")
    }

    @Test("a value equal to a bucket bound lands in that bucket: le is inclusive")
    func inclusiveBounds() {
        let registry = MetricsRegistry()
        let table: [(value: Double, cumulative: [Int])] = [
            (1, [1, 1, 1, 1]),
            (1.000_000_1, [0, 1, 1, 1]),
            (4, [0, 0, 1, 1]),
            (4.000_000_1, [0, 0, 0, 1]),
            (-3, [1, 1, 1, 1]),
            (.infinity, [0, 0, 0, 1]),
        ]
        for (index, row) in table.enumerated() {
            let fresh = registry.histogram("size\(index)_bytes", help: "Sizes.", buckets: [1, 2, 4])
            fresh.unlabelled.observe(row.value)
            let counts = registry.exposition().split(separator: "\n")
                .filter { $0.hasPrefix("size\(index)_bytes_bucket") }
                .compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }
            #expect(counts == row.cumulative, "value \(row.value)")
        }
    }

    @Test("NaN observations are dropped instead of poisoning the sum")
    func nanIgnored() {
        let registry = MetricsRegistry()
        let histogram = registry.histogram("latency_seconds", help: "Latency.")
        histogram.unlabelled.observe(.nan)
        histogram.unlabelled.observe(0.5)
        let text = registry.exposition()
        #expect(text.contains("latency_seconds_sum 0.5\n"))
        #expect(text.contains("latency_seconds_count 1\n"))
    }

    @Test("label sets beyond the cap share one _overflow child, keeping memory bounded")
    func labelOverflow() {
        let registry = MetricsRegistry(maxLabelSets: 2)
        let counter = registry.counter("hits_total", help: "Hits.", labelNames: ["route"])
        for route in ["/a", "/b", "/c", "/d", "/a"] {
            counter.labels(route).increment()
        }
        let samples = registry.exposition().split(separator: "\n").map(String.init)
            .filter { $0.hasPrefix("hits_total{") }
        let expected = [
            "hits_total{route=\"/a\"} 2", "hits_total{route=\"/b\"} 1", "hits_total{route=\"_overflow\"} 2",
        ]
        #expect(samples == expected)
    }

    @Test("8 threads incrementing counters, gauges and histograms lose no update")
    func concurrentUpdates() {
        let registry = MetricsRegistry()
        let counter = registry.counter("work_total", help: "Work.", labelNames: ["kind"])
        let gauge = registry.gauge("level", help: "Level.")
        let histogram = registry.histogram("took_seconds", help: "Took.", buckets: [0.5])
        onThreads(8) { thread in
            let child = counter.labels(thread % 2 == 0 ? "even" : "odd")
            for _ in 0..<10_000 {
                child.increment()
                gauge.unlabelled.add(0.5)
                histogram.unlabelled.observe(0.25)
            }
        }
        #expect(counter.labels("even").value == 40_000)
        #expect(counter.labels("odd").value == 40_000)
        #expect(gauge.unlabelled.value == 40_000)
        let text = registry.exposition()
        #expect(text.contains("took_seconds_bucket{le=\"0.5\"} 80000\n"))
        #expect(text.contains("took_seconds_sum 20000\n"))
    }
}
