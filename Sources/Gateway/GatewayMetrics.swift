import Telemetry

/// The gateway's counters and histograms, registered once; unlabelled children are resolved once so the
/// request path only touches atomics.
///
/// `auth_failures_total` counts presented credentials that failed verification; `unauthorized_access_total`
/// counts requests refused for lacking a credential or a scope: the two series the guide's alerts watch.
public final class GatewayMetrics: Sendable {
    let authFailures: Counter.Child
    let unauthorizedAccess: Counter.Child
    let rateLimited: Counter.Child
    let upstreamErrors: Counter.Child
    let requests: Counter
    let duration: Histogram.Child

    public init(registry: MetricsRegistry) {
        authFailures = registry.counter("auth_failures_total", help: "Credentials that failed verification.")
            .labels([])
        unauthorizedAccess = registry.counter(
            "unauthorized_access_total", help: "Requests refused for a missing credential or scope."
        ).labels([])
        rateLimited = registry.counter("rate_limited_total", help: "Requests refused by a rate limit.").labels([])
        upstreamErrors = registry.counter("upstream_errors_total", help: "Upstream exchanges that failed.")
            .labels([])
        requests = registry.counter(
            "http_requests_total", help: "Requests answered by the gateway.", labelNames: ["method", "route", "status"])
        duration =
            registry.histogram(
                "http_request_duration_seconds", help: "Time from parsed request to the end of its answer, in seconds."
            ).unlabelled
    }

    /// Counts one answered request; labels come from bounded sets only (route prefix, known method, status).
    func observe(method: String, route: String?, status: Int, nanoseconds: UInt64) {
        requests.labels([Self.methodLabel(method), route ?? "unmatched", String(status)]).increment()
        duration.observe(nanoseconds: nanoseconds)
    }

    /// The method as a label: a known method, or `OTHER`.
    static func methodLabel(_ method: String) -> String {
        switch method {
        case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS": method
        default: "OTHER"
        }
    }
}
