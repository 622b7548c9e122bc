/**
 * The code of docs/observability.md that is not in `src/observability/`, type-checked by `pnpm check`.
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import * as Otlp from "@effect/opentelemetry/Otlp"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Cache } from "@layercake/core"
import { ConsoleMetricExporter, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics"
import { BatchSpanProcessor, ConsoleSpanExporter } from "@opentelemetry/sdk-trace-base"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Schema from "effect/Schema"
import * as PrometheusText from "../observability/prometheusText.js"
import { tiers } from "../observability/tiers.js"

// --- OpenTelemetry SDK -----------------------------------------------------------

export const TelemetryLive = NodeSdk.layer(() => ({
  resource: { serviceName: "my-service" },
  spanProcessor: new BatchSpanProcessor(new ConsoleSpanExporter()),
  metricReader: new PeriodicExportingMetricReader({ exporter: new ConsoleMetricExporter() })
}))

const User = Schema.Struct({ id: Schema.Number, name: Schema.String })

export const program = Cache.getOrCompute("user:1", User, Effect.succeed({ id: 1, name: "Ada" })).pipe(
  Effect.provide(Cache.layer({ namespace: "app" }).pipe(Layer.provide(tiers))),
  Effect.provide(TelemetryLive)
)

// --- OTLP without the SDK ----------------------------------------------------------

export const OtlpLive = Otlp.layerJson({
  baseUrl: "http://localhost:4318",
  resource: { serviceName: "my-service" }
}).pipe(Layer.provide(FetchHttpClient.layer))

// --- Prometheus text ------------------------------------------------------------------

export const metricsText: Effect.Effect<string> = Effect.map(Metric.snapshot, PrometheusText.render)
