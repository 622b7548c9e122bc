import * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"

/** @internal */
export const counterNames = [
  "hits",
  "misses",
  "staleHits",
  "negativeHits",
  "computes",
  "coalesced",
  "computeFailures",
  "refreshes",
  "refreshSuccesses",
  "refreshFailures",
  "softTimeouts",
  "hardTimeouts",
  "staleIfErrorServed",
  "decodeFailures",
  "tierErrors",
  "backgroundDefects",
  "gapsApplied",
  "invalidationRetries",
  "invalidationsAbandoned",
  "lockAcquired",
  "lockWaits",
  "lockTimeouts"
] as const

/** @internal */
export type CounterName = typeof counterNames[number]

/**
 * `layercake_<name in snake case>_total`; `tierErrors` is
 * `layercake_all_tier_errors_total`, apart from the per-tier
 * `layercake_tier_errors_total` (one name for both would merge them in
 * OpenTelemetry and Prometheus).
 */
const metricName = (name: CounterName): string =>
  name === "tierErrors"
    ? "layercake_all_tier_errors_total"
    : `layercake_${name.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase())}_total`

/** @internal */
export const metrics: Record<CounterName, Metric.Metric.Counter<number>> = Object.fromEntries(
  counterNames.map((name) => [
    name,
    Metric.counter(metricName(name), {
      description: `layercake Cache.Stats.${name}`,
      incremental: true
    })
  ])
) as Record<CounterName, Metric.Metric.Counter<number>>

/** @internal */
export const tierMetrics = {
  hits: Metric.counter("layercake_tier_hits_total", { incremental: true }),
  misses: Metric.counter("layercake_tier_misses_total", { incremental: true }),
  errors: Metric.counter("layercake_tier_errors_total", { incremental: true })
}

/**
 * Plain counters for `Cache.stats` (per instance), mirrored into Effect
 * `Metric`s tagged with the namespace by `flush` (every second, on `stats` and
 * when the layer closes). The hot path only bumps a number: a metric update
 * per hit would cost a quarter of an L1 hit.
 * @internal
 */
export class Counters {
  readonly values: Record<CounterName, number> = Object.fromEntries(counterNames.map((name) => [name, 0])) as Record<
    CounterName,
    number
  >
  readonly tiers: ReadonlyArray<{ readonly name: string; hits: number; misses: number; errors: number }>
  private readonly labels: ReadonlyArray<MetricLabel.MetricLabel>
  private readonly tierLabels: ReadonlyArray<ReadonlyArray<MetricLabel.MetricLabel>>

  constructor(namespace: string, tierNames: ReadonlyArray<string>) {
    this.labels = [MetricLabel.make("namespace", namespace)]
    this.tiers = tierNames.map((name) => ({ name, hits: 0, misses: 0, errors: 0 }))
    this.tierLabels = tierNames.map((name) => [...this.labels, MetricLabel.make("tier", name)])
    this.tiersFlushed = tierNames.map(() => ({ hits: 0, misses: 0, errors: 0 }))
  }

  private readonly flushed: Record<CounterName, number> = { ...this.values }
  private readonly tiersFlushed: Array<{ hits: number; misses: number; errors: number }>

  incr(name: CounterName): void {
    this.values[name]++
  }

  /** A fresh hit in the top tier, the hot path's bookkeeping: named fields, no keyed access. */
  topHit(): void {
    this.values.hits++
    this.tiers[0].hits++
  }

  tier(index: number, outcome: "hits" | "misses" | "errors"): void {
    this.tiers[index][outcome]++
  }

  /** Adds what the counters gained since the last flush to the metrics. */
  flush(): void {
    for (const name of counterNames) {
      const delta = this.values[name] - this.flushed[name]
      if (delta !== 0) {
        metrics[name].unsafeUpdate(delta, this.labels)
        this.flushed[name] = this.values[name]
      }
    }
    this.tiers.forEach((tier, index) => {
      const flushed = this.tiersFlushed[index]
      for (const outcome of ["hits", "misses", "errors"] as const) {
        const delta = tier[outcome] - flushed[outcome]
        if (delta !== 0) {
          tierMetrics[outcome].unsafeUpdate(delta, this.tierLabels[index])
          flushed[outcome] = tier[outcome]
        }
      }
    })
  }
}
