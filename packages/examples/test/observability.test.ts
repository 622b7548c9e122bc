/**
 * The observability examples keep working: the cache's spans and metrics
 * reach OpenTelemetry through `@effect/opentelemetry` (an in-memory span
 * exporter and a metric reader collected by hand), and `/metrics` serves them
 * in the Prometheus text format. The tiers are memory over the in-process
 * `SharedTier`: no Redis needed.
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import * as HttpServer from "@effect/platform/HttpServer"
import { assert, describe, it } from "@effect/vitest"
import { Cache } from "@layercake/core"
import { DataPointType, type MetricData, MetricReader } from "@opentelemetry/sdk-metrics"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as Otel from "../src/observability/otel.js"
import * as Prometheus from "../src/observability/prometheus.js"
import * as PrometheusText from "../src/observability/prometheusText.js"
import { inProcessTiers } from "../src/observability/tiers.js"

/** A metric reader that exports nothing by itself: the test calls `collect()`. */
class CollectingReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve()
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve()
  }
}

/** The SDK with in-memory exporters, the example's cache over memory → shared (in-process). */
const instrumented = (namespace: string) => {
  const spans = new InMemorySpanExporter()
  const reader = new CollectingReader()
  const layer = Cache.layer({ namespace }).pipe(
    Layer.provide(inProcessTiers),
    Layer.provideMerge(NodeSdk.layer(() => ({
      resource: { serviceName: "layercake-test" },
      spanProcessor: new SimpleSpanProcessor(spans),
      metricReader: reader
    })))
  )
  return { spans, reader, layer }
}

/** The value of the data point of `name` whose attributes include `attributes`, if there is one. */
const pointOf = (metrics: ReadonlyArray<MetricData>, name: string, attributes: Record<string, string>) => {
  const metric = metrics.find((metric) => metric.descriptor.name === name)
  const point = metric?.dataPoints.find((point) =>
    Object.entries(attributes).every(([key, value]) => point.attributes[key] === value)
  )
  return point === undefined ? undefined : { metric: metric!, value: point.value }
}

const request = (url: string) =>
  Effect.promise(async () => {
    const response = await fetch(url)
    return { status: response.status, contentType: response.headers.get("content-type"), body: await response.text() }
  })

describe("OpenTelemetry", () => {
  it.scopedLive("spans: one per operation beyond the memory tier, named and attributed, children of the caller's", () => {
    const { layer, spans } = instrumented("otel-spans")
    return Effect.gen(function*() {
      yield* Otel.workload
      const finished = spans.getFinishedSpans()
      // Seven operations, five spans: the fresh memory hits (getOrCompute, then get) make none.
      assert.deepStrictEqual(finished.map((span) => span.name), [
        "layercake.getOrCompute",
        "layercake.set",
        "layercake.invalidate",
        "layercake.getOrCompute",
        "layercake.get",
        "example.workload"
      ])
      const [miss, set, invalidate, missAgain, get, workload] = finished
      assert.deepStrictEqual(miss.attributes, { "cache.namespace": "otel-spans", "cache.key": "otel-spans:user:1" })
      assert.deepStrictEqual(set.attributes, { "cache.namespace": "otel-spans", "cache.key": "otel-spans:user:2" })
      assert.strictEqual(invalidate.attributes["cache.namespace"], "otel-spans")
      // An array attribute reaches OpenTelemetry as its JSON text (@effect/opentelemetry's conversion), unprefixed.
      assert.deepStrictEqual(JSON.parse(String(invalidate.attributes["cache.keys"])), ["user:1"])
      assert.deepStrictEqual(missAgain.attributes, miss.attributes)
      assert.deepStrictEqual(get.attributes, { "cache.namespace": "otel-spans", "cache.key": "otel-spans:user:3" })
      for (const span of [miss, set, invalidate, missAgain, get]) {
        assert.strictEqual(span.parentSpanContext?.spanId, workload.spanContext().spanId)
        assert.strictEqual(span.spanContext().traceId, workload.spanContext().traceId)
      }
    }).pipe(Effect.provide(layer))
  })

  it.scopedLive("metrics: the hit, miss and compute counters and the per-tier ones, tagged with the namespace", () => {
    const { layer, reader } = instrumented("otel-metrics")
    return Effect.gen(function*() {
      const stats = yield* Otel.workload
      assert.strictEqual(stats.hits, 2)
      assert.strictEqual(stats.misses, 3)
      const { errors, resourceMetrics } = yield* Effect.promise(() => reader.collect())
      assert.deepStrictEqual(errors, [])
      assert.strictEqual(resourceMetrics.resource.attributes["service.name"], "layercake-test")
      const metrics = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics)
      const namespace = { namespace: "otel-metrics" }

      const hits = pointOf(metrics, "layercake_hits_total", namespace)
      assert.strictEqual(hits?.value, 2)
      assert.strictEqual(hits?.metric.dataPointType, DataPointType.SUM)
      assert.isTrue(hits?.metric.dataPointType === DataPointType.SUM && hits.metric.isMonotonic)
      assert.strictEqual(hits?.metric.descriptor.description, "layercake Cache.Stats.hits")
      assert.strictEqual(pointOf(metrics, "layercake_misses_total", namespace)?.value, 3)
      assert.strictEqual(pointOf(metrics, "layercake_computes_total", namespace)?.value, 2)

      assert.strictEqual(pointOf(metrics, "layercake_tier_hits_total", { ...namespace, tier: "memory" })?.value, 2)
      assert.strictEqual(pointOf(metrics, "layercake_tier_misses_total", { ...namespace, tier: "memory" })?.value, 3)
      assert.strictEqual(pointOf(metrics, "layercake_tier_misses_total", { ...namespace, tier: "shared" })?.value, 3)
      // A counter that never moved has no data point.
      assert.isUndefined(pointOf(metrics, "layercake_tier_hits_total", { ...namespace, tier: "shared" }))
      assert.isUndefined(pointOf(metrics, "layercake_all_tier_errors_total", namespace))
      assert.isUndefined(pointOf(metrics, "layercake_tier_errors_total", { ...namespace, tier: "memory" }))
    }).pipe(Effect.provide(layer))
  })
})

describe("Prometheus", () => {
  it.effect("render: TYPE and HELP per name, tags as escaped labels, histograms with cumulative buckets", () =>
    Effect.gen(function*() {
      const requests = Metric.counter("test_prom_requests_total", { incremental: true, description: "requests" })
      const inFlight = Metric.counter("test_prom_in_flight")
      const latency = Metric.histogram(
        "test_prom_latency_ms",
        MetricBoundaries.fromIterable([10, 100])
      )
      yield* Metric.incrementBy(Metric.tagged(requests, "path", "/a\"b\\c"), 3)
      yield* Metric.incrementBy(Metric.tagged(requests, "path", "/"), 1)
      yield* Metric.incrementBy(inFlight, 2)
      yield* Metric.update(latency, 5)
      yield* Metric.update(latency, 50)
      yield* Metric.update(latency, 500)
      const snapshot = (yield* Metric.snapshot).filter((pair) => pair.metricKey.name.startsWith("test_prom_"))
      assert.strictEqual(
        PrometheusText.render(snapshot),
        [
          "# TYPE test_prom_in_flight gauge",
          "test_prom_in_flight 2",
          "# TYPE test_prom_latency_ms histogram",
          "test_prom_latency_ms_bucket{le=\"10\"} 1",
          "test_prom_latency_ms_bucket{le=\"100\"} 2",
          "test_prom_latency_ms_bucket{le=\"+Inf\"} 3",
          "test_prom_latency_ms_sum 555",
          "test_prom_latency_ms_count 3",
          "# HELP test_prom_requests_total requests",
          "# TYPE test_prom_requests_total counter",
          "test_prom_requests_total{path=\"/\"} 1",
          "test_prom_requests_total{path=\"/a\\\"b\\\\c\"} 3",
          ""
        ].join("\n")
      )
      assert.strictEqual(PrometheusText.render([]), "")
    }))

  it.scopedLive("GET /metrics serves the cache's counters in the text format", () =>
    Effect.gen(function*() {
      const context = yield* Layer.build(Prometheus.layer({ port: 0, namespace: "prom-test" }))
      const address = Context.get(context, HttpServer.HttpServer).address
      assert.strictEqual(address._tag, "TcpAddress")
      const base = `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}`

      assert.strictEqual((yield* request(`${base}/users/1`)).body, JSON.stringify({ id: 1, name: "user-1" }))
      assert.strictEqual((yield* request(`${base}/users/1`)).body, JSON.stringify({ id: 1, name: "user-1" }))
      const scrape = yield* request(`${base}/metrics`)
      assert.strictEqual(scrape.status, 200)
      assert.strictEqual(scrape.contentType, PrometheusText.contentType)
      const lines = scrape.body.split("\n")
      for (
        const line of [
          "# HELP layercake_hits_total layercake Cache.Stats.hits",
          "# TYPE layercake_hits_total counter",
          "layercake_hits_total{namespace=\"prom-test\"} 1",
          "layercake_misses_total{namespace=\"prom-test\"} 1",
          "layercake_computes_total{namespace=\"prom-test\"} 1",
          "layercake_tier_hits_total{namespace=\"prom-test\",tier=\"memory\"} 1",
          "layercake_tier_misses_total{namespace=\"prom-test\",tier=\"memory\"} 1",
          "layercake_tier_misses_total{namespace=\"prom-test\",tier=\"shared\"} 1"
        ]
      ) {
        assert.include(lines, line)
      }

      // The scrape reads the cache's stats first: a hit just before it is already counted.
      yield* request(`${base}/users/1`)
      assert.include((yield* request(`${base}/metrics`)).body, "layercake_hits_total{namespace=\"prom-test\"} 2\n")
    }))
})
