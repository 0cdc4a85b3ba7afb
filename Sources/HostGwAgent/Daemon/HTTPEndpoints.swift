// The agent's loopback HTTP face: /healthz, /readyz, /metrics (Prometheus text), /status (JSON).
import Foundation
import Hummingbird
import Logging
import NIOCore
import Prometheus

struct HTTPEndpoints: Sendable {
    var health: AgentHealth
    var policy: HealthPolicy
    var registry: PrometheusCollectorRegistry
    /// The current status document, encoded as JSON.
    var status: @Sendable () async -> Data

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("healthz") { _, _ -> Response in
            let problems = healthProblems(await health.snapshot, policy: policy, now: Date())
            return problems.isEmpty
                ? text(.ok, "ok\n")
                : text(.serviceUnavailable, problems.map { "unhealthy: \($0.description)" }.joined(separator: "\n") + "\n")
        }
        router.get("readyz") { _, _ -> Response in
            await health.snapshot.ready
                ? text(.ok, "ready\n")
                : text(.serviceUnavailable, "not ready: first full reconcile has not completed\n")
        }
        router.get("metrics") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: MetricHelp.annotate(registry.emitToString()))))
        }
        router.get("status") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: await status())))
        }
        return router
    }
}

private func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
    var headers = HTTPFields()
    headers[.contentType] = "text/plain; charset=utf-8"
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
}
