import Foundation
import Hummingbird
import Synchronization

/// Request counts and latencies by route and status, and cache counters, as Prometheus text (exposition
/// format 0.0.4). Kept in the server itself: a handful of counters need no metrics backend.
public final class ServerMetrics: Sendable {
    /// Upper bounds of the latency histogram's buckets, in seconds.
    static let buckets: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10]

    struct Key: Hashable, Comparable {
        var route: String, method: String, status: Int
        static func < (a: Key, b: Key) -> Bool { (a.route, a.method, a.status) < (b.route, b.method, b.status) }
    }

    struct Series {
        var count = 0
        var sum = 0.0
        var bucketCounts = [Int](repeating: 0, count: ServerMetrics.buckets.count)
    }

    private let series = Mutex<[Key: Series]>([:])
    private let counters = Mutex<[String: (help: String, value: Int)]>([:])

    public init() {}

    func record(route: String, method: String, status: Int, seconds: Double) {
        series.withLock { all in
            var s = all[Key(route: route, method: method, status: status), default: Series()]
            s.count += 1
            s.sum += seconds
            if let b = Self.buckets.firstIndex(where: { seconds <= $0 }) { s.bucketCounts[b] += 1 }
            all[Key(route: route, method: method, status: status)] = s
        }
    }

    /// Adds `by` to the counter `name` (created on first use with `help`).
    public func count(_ name: String, help: String, by: Int = 1) {
        counters.withLock { $0[name, default: (help, 0)].value += by }
    }

    public var prometheusText: String {
        var out = "# HELP geogrid_http_requests_total HTTP requests answered, by route, method and status.\n"
        out += "# TYPE geogrid_http_requests_total counter\n"
        let all = series.withLock { $0 }.sorted { $0.key < $1.key }
        func labels(_ k: Key) -> String { "route=\"\(k.route)\",method=\"\(k.method)\",status=\"\(k.status)\"" }
        for (k, s) in all { out += "geogrid_http_requests_total{\(labels(k))} \(s.count)\n" }
        out += "# HELP geogrid_http_request_duration_seconds Time from a request's arrival to its response's last byte.\n"
        out += "# TYPE geogrid_http_request_duration_seconds histogram\n"
        for (k, s) in all {
            var cumulative = 0
            for (b, bound) in Self.buckets.enumerated() {
                cumulative += s.bucketCounts[b]
                out += "geogrid_http_request_duration_seconds_bucket{\(labels(k)),le=\"\(bound)\"} \(cumulative)\n"
            }
            out += "geogrid_http_request_duration_seconds_bucket{\(labels(k)),le=\"+Inf\"} \(s.count)\n"
            out += "geogrid_http_request_duration_seconds_sum{\(labels(k))} \(s.sum)\n"
            out += "geogrid_http_request_duration_seconds_count{\(labels(k))} \(s.count)\n"
        }
        for (name, c) in counters.withLock({ $0 }).sorted(by: { $0.key < $1.key }) {
            out += "# HELP \(name) \(c.help)\n# TYPE \(name) counter\n\(name) \(c.value)\n"
        }
        return out
    }
}

/// Records every request in `ServerMetrics` under its route pattern (not its path: `/tiles/{layers}/{z}/{x}/{y}`
/// is one series), timed to the end of its body.
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        var response = try await next(request, context)
        let route = context.endpointPath ?? "unmatched"
        let status = Int(response.status.code), method = request.method.rawValue
        let metrics = self.metrics
        let body = response.body
        // Timed to the body's last byte (a streamed body is written after this returns).
        response.body = ResponseBody(contentLength: body.contentLength) { writer in
            defer {
                metrics.record(route: route, method: method, status: status, seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            try await body.write(writer)
        }
        return response
    }
}
