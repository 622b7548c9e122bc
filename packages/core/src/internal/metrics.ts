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
  "backgroundDefects"
] as const

/** @internal */
export type CounterName = typeof counterNames[number]

const metrics: Record<CounterName, Metric.Metric.Counter<number>> = Object.fromEntries(
  counterNames.map((name) => [
    name,
    Metric.counter(`layercake_${name.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase())}_total`, {
      description: `layercake Cache.Stats.${name}`,
      incremental: true
    })
  ])
) as Record<CounterName, Metric.Metric.Counter<number>>

const tierMetrics = {
  hits: Metric.counter("layercake_tier_hits_total", { incremental: true }),
  misses: Metric.counter("layercake_tier_misses_total", { incremental: true }),
  errors: Metric.counter("layercake_tier_errors_total", { incremental: true })
}

/**
 * Plain counters for `Cache.stats` (per instance) mirrored into Effect
 * `Metric`s tagged with the namespace. Updates are synchronous and allocate
 * nothing: the label arrays are built once, so the metric hook is cached.
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
  }

  incr(name: CounterName, by = 1): void {
    this.values[name] += by
    metrics[name].unsafeUpdate(by, this.labels)
  }

  tier(index: number, outcome: "hits" | "misses" | "errors"): void {
    this.tiers[index][outcome]++
    tierMetrics[outcome].unsafeUpdate(1, this.tierLabels[index])
  }
}
