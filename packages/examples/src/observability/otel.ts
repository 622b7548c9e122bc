/**
 * `pnpm --filter @layercake/examples otel`: layercake's spans and metrics
 * through OpenTelemetry, printed to the console. `NodeSdk.layer` from
 * `@effect/opentelemetry` installs an OpenTelemetry tracer (the cache then
 * makes its spans; without one it makes none) and a metric reader that
 * collects Effect's `Metric`s, the cache's counters among them. Swap the
 * console exporters for OTLP ones (`@opentelemetry/exporter-trace-otlp-http`,
 * `@opentelemetry/exporter-metrics-otlp-http`) to send them to a collector.
 *
 * The tiers are memory over the in-process `SharedTier`, or over Redis when
 * REDIS_URL is set.
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cache } from "@layercake/core"
import { ConsoleMetricExporter, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics"
import { BatchSpanProcessor, ConsoleSpanExporter } from "@opentelemetry/sdk-trace-base"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { pathToFileURL } from "node:url"
import { tiers, usesRedis } from "./tiers.js"

const User = Schema.Struct({ id: Schema.Number, name: Schema.String })

/** A pretend database read. */
const loadUser = (id: number) => Effect.sync(() => ({ id, name: `user-${id}` }))

/**
 * A few operations, in a span of the application's (`example.workload`) so
 * the cache's spans appear as its children:
 *
 * - `getOrCompute` of `user:1`: a miss in both tiers, computed (a span);
 * - `getOrCompute` of `user:1` again: a fresh hit in memory (no span: the
 *   memory hit path is kept free of tracing; it still counts a hit);
 * - `set` of `user:2` (a span), then `get` of it: a memory hit;
 * - `invalidate` of `user:1` (a span), then `getOrCompute` of it: a miss again;
 * - `get` of `user:3`: a miss (a span).
 *
 * Returns the cache's `stats` (which also feeds the counters into the metrics).
 */
export const workload = Effect.gen(function*() {
  const cache = yield* Cache.Cache
  yield* cache.getOrCompute("user:1", User, loadUser(1))
  yield* cache.getOrCompute("user:1", User, loadUser(1))
  yield* cache.set("user:2", User, { id: 2, name: "Ada" })
  yield* cache.get("user:2", User)
  yield* cache.invalidate("user:1")
  yield* cache.getOrCompute("user:1", User, loadUser(1))
  yield* cache.get("user:3", User)
  return yield* cache.stats
}).pipe(Effect.withSpan("example.workload"))

/**
 * OpenTelemetry: spans to the console in batches, metrics to the console
 * every `exportIntervalMillis` and once more when the layer closes.
 */
export const OtelLive = NodeSdk.layer(() => ({
  resource: { serviceName: "layercake-example" },
  spanProcessor: new BatchSpanProcessor(new ConsoleSpanExporter()),
  metricReader: new PeriodicExportingMetricReader({
    exporter: new ConsoleMetricExporter(),
    exportIntervalMillis: 5_000
  })
}))

const main = Effect.gen(function*() {
  yield* Console.log(`layercake + OpenTelemetry (tiers: memory → ${usesRedis ? "redis" : "shared (in-process)"})`)
  const stats = yield* workload
  yield* Console.log(
    `stats: hits ${stats.hits}, misses ${stats.misses}, computes ${stats.computes}; per tier ${
      stats.perTier.map((tier) => `${tier.name} ${tier.hits}/${tier.misses}`).join(", ")
    } (hits/misses)`
  )
  yield* Console.log("the spans and metrics follow, printed by the console exporters as the layers close:")
}).pipe(
  // The cache closes first (its counters are fed into the metrics once more),
  // then the SDK, which exports what is left.
  Effect.provide(Cache.layer({ namespace: "otel-example" }).pipe(Layer.provide(tiers))),
  Effect.provide(OtelLive)
)

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  NodeRuntime.runMain(main)
}
