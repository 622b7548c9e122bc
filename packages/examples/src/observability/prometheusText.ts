/**
 * Effect `Metric`s in the Prometheus text exposition format (version 0.0.4),
 * for a `/metrics` endpoint: `render(yield* Metric.snapshot)`. A metric's tags
 * become its labels, in the order the metric was tagged.
 *
 * Rendered by hand rather than through `@opentelemetry/exporter-prometheus`:
 * the names stay exactly the Effect metric names (`layercake_hits_total`, no
 * `otel_scope_*` labels or `target_info` added), and there is no second HTTP
 * server or OpenTelemetry SDK to run just to be scraped.
 */
import * as MetricKeyType from "effect/MetricKeyType"
import type * as MetricLabel from "effect/MetricLabel"
import type * as MetricPair from "effect/MetricPair"
import * as MetricState from "effect/MetricState"
import * as Option from "effect/Option"

/** The `Content-Type` of the text format. */
export const contentType = "text/plain; version=0.0.4; charset=utf-8"

type Type = "counter" | "gauge" | "histogram" | "summary"

interface Family {
  readonly type: Type
  readonly help: string | undefined
  readonly samples: Array<string>
}

/** Prometheus names are `[a-zA-Z_:][a-zA-Z0-9_:]*`; anything else becomes `_`. */
const metricName = (name: string): string => name.replace(/[^a-zA-Z0-9_:]/g, "_").replace(/^(?=[0-9])/, "_")

/** Label names are `[a-zA-Z_][a-zA-Z0-9_]*`. */
const labelName = (name: string): string => name.replace(/[^a-zA-Z0-9_]/g, "_").replace(/^(?=[0-9])/, "_")

const escapeLabelValue = (value: string): string =>
  value.replace(/\\/g, "\\\\").replace(/"/g, "\\\"").replace(/\n/g, "\\n")

const escapeHelp = (help: string): string => help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")

const formatValue = (value: number | bigint): string => {
  if (typeof value === "bigint") return value.toString()
  if (Number.isNaN(value)) return "NaN"
  if (value === Infinity) return "+Inf"
  if (value === -Infinity) return "-Inf"
  return String(value)
}

const labels = (tags: ReadonlyArray<MetricLabel.MetricLabel>, extra: ReadonlyArray<readonly [string, string]> = []) => {
  const pairs = [...tags.map((tag) => [tag.key, tag.value] as const), ...extra]
  return pairs.length === 0
    ? ""
    : `{${pairs.map(([key, value]) => `${labelName(key)}="${escapeLabelValue(value)}"`).join(",")}}`
}

/**
 * The type and samples of one metric: a counter that only goes up
 * (`incremental`) is a `counter`, one that can go down is a `gauge`; a
 * histogram has its cumulative `_bucket`s (the last one `le="+Inf"`),
 * `_sum` and `_count`; a summary its `quantile`s, `_sum` and `_count`; a
 * frequency one `counter` sample per occurrence, labelled `key`.
 */
const samplesOf = (pair: MetricPair.MetricPair.Untyped, name: string): readonly [Type, Array<string>] => {
  const { metricKey, metricState } = pair
  const tags = metricKey.tags
  if (MetricState.isCounterState(metricState)) {
    const type = MetricKeyType.isCounterKey(metricKey.keyType) && !metricKey.keyType.incremental ? "gauge" : "counter"
    return [type, [`${name}${labels(tags)} ${formatValue(metricState.count)}`]]
  }
  if (MetricState.isGaugeState(metricState)) {
    return ["gauge", [`${name}${labels(tags)} ${formatValue(metricState.value)}`]]
  }
  if (MetricState.isHistogramState(metricState)) {
    const buckets = metricState.buckets.map(([boundary, count]) =>
      `${name}_bucket${labels(tags, [["le", formatValue(boundary)]])} ${formatValue(count)}`
    )
    const last = metricState.buckets.at(-1)
    if (last === undefined || last[0] !== Infinity) {
      buckets.push(`${name}_bucket${labels(tags, [["le", "+Inf"]])} ${formatValue(metricState.count)}`)
    }
    return ["histogram", [
      ...buckets,
      `${name}_sum${labels(tags)} ${formatValue(metricState.sum)}`,
      `${name}_count${labels(tags)} ${formatValue(metricState.count)}`
    ]]
  }
  if (MetricState.isSummaryState(metricState)) {
    return ["summary", [
      ...metricState.quantiles.map(([quantile, value]) =>
        `${name}${labels(tags, [["quantile", String(quantile)]])} ${formatValue(Option.getOrElse(value, () => NaN))}`
      ),
      `${name}_sum${labels(tags)} ${formatValue(metricState.sum)}`,
      `${name}_count${labels(tags)} ${formatValue(metricState.count)}`
    ]]
  }
  if (MetricState.isFrequencyState(metricState)) {
    return [
      "counter",
      Array.from(
        metricState.occurrences,
        ([key, count]) => `${name}${labels(tags, [["key", key]])} ${formatValue(count)}`
      )
    ]
  }
  return ["gauge", []]
}

/**
 * The metrics of `snapshot` (`Metric.snapshot`) as Prometheus text: one
 * `# HELP` (from the description, when there is one) and `# TYPE` per metric
 * name, then its samples, one tag set after another. Names and tag sets are
 * sorted, so the output is stable.
 */
export const render = (snapshot: ReadonlyArray<MetricPair.MetricPair.Untyped>): string => {
  const families = new Map<string, Family>()
  const byTags = (pair: MetricPair.MetricPair.Untyped) => labels(pair.metricKey.tags)
  const sorted = [...snapshot].sort((a, b) => byTags(a) < byTags(b) ? -1 : byTags(a) > byTags(b) ? 1 : 0)
  for (const pair of sorted) {
    const name = metricName(pair.metricKey.name)
    const [type, samples] = samplesOf(pair, name)
    const family = families.get(name)
    if (family === undefined) {
      families.set(name, { type, help: Option.getOrUndefined(pair.metricKey.description), samples })
    } else {
      family.samples.push(...samples)
    }
  }
  const lines: Array<string> = []
  for (const name of Array.from(families.keys()).sort()) {
    const family = families.get(name)!
    if (family.help !== undefined && family.help !== "") lines.push(`# HELP ${name} ${escapeHelp(family.help)}`)
    lines.push(`# TYPE ${name} ${family.type}`)
    lines.push(...family.samples)
  }
  return lines.length === 0 ? "" : lines.join("\n") + "\n"
}
