/**
 * One markdown table per row: contender, median, ratio to the row's
 * reference, samples, the target and whether a layercake contender meets it.
 */
import type { Row } from "./rows.js"

export interface ContenderResult {
  readonly name: string
  readonly layercake: boolean
  readonly values: ReadonlyArray<number>
  /** The child's CPU time per sample, in the row's unit. */
  readonly cpu: ReadonlyArray<number>
  readonly gcShares: ReadonlyArray<number>
  /** Why samples had to be taken again. */
  readonly retried: ReadonlyArray<string>
  readonly extras: ReadonlyArray<Readonly<Record<string, number>>>
  /** Set when the contender failed (its child's error); its samples so far are kept. */
  readonly error?: string | undefined
}

export const median = (values: ReadonlyArray<number>) => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

const figure = (value: number) => {
  if (!Number.isFinite(value)) return "—"
  if (value >= 100) return value.toFixed(0)
  if (value >= 10) return value.toFixed(1)
  if (value >= 1) return value.toFixed(2)
  return value.toFixed(3)
}

const times = (ratio: number) => (Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : "—")

/** The first line of an error, short enough for a table cell. */
const reasonOf = (message: string) => {
  const line = message.split("\n")[0].replaceAll("|", "\\|")
  return line.length > 160 ? `${line.slice(0, 160)}…` : line
}

const notesOf = (result: ContenderResult) => {
  const notes: Array<string> = []
  const gc = median(result.gcShares.filter(Number.isFinite))
  if (Number.isFinite(gc)) notes.push(`GC ${(gc * 100).toFixed(1)}%`)
  const launch = result.extras.map((extra) => extra.launchMs).filter((ms) => ms !== undefined)
  if (launch.length > 0) notes.push(`launch loop ${figure(median(launch))} ms`)
  const computes = [...new Set(result.extras.map((extra) => extra.computes).filter((n) => n !== undefined))]
  if (computes.length > 0) notes.push(`computes per stampede: ${computes.sort((a, b) => a - b).join(", ")}`)
  const ops = [...new Set(result.extras.map((extra) => extra.ops).filter((n) => n !== undefined))]
  if (ops.length === 1) notes.push(`${ops[0].toLocaleString("en")} ops/sample`)
  if (result.retried.length > 0) {
    notes.push(`${result.retried.length} sample(s) taken again after: ${reasonOf(result.retried[0])}`)
  }
  if (result.error !== undefined) notes.push(`**FAILED**: ${reasonOf(result.error)}`)
  return notes.join("; ")
}

/** Whether a layercake contender meets the row's target (and, in a stampede, computed once every time). */
export const meets = (row: Row, result: ContenderResult, ratio: number) => {
  if (row.target === undefined || !result.layercake) return undefined
  const once = result.extras.every((extra) => extra.computes === undefined || extra.computes === 1)
  return result.error === undefined && once && ratio <= row.target
}

export const rowTable = (row: Row, results: ReadonlyArray<ContenderResult>) => {
  const reference = median(results.find((result) => result.name === row.reference)?.values ?? [])
  const lines = [
    `### ${row.id.startsWith("s") ? "" : "Row "}${row.id} — ${row.title} (${row.unit} per ${row.per})`,
    ""
  ]
  if (row.note !== undefined) lines.push(`_${row.note}_`, "")
  lines.push(
    "| contender | median | ratio | client CPU | samples (min–max) | target | met? | notes |",
    "|---|---:|---:|---:|---|---|---|---|"
  )
  for (const result of results) {
    const value = median(result.values)
    const ratio = value / reference
    const met = meets(row, result, ratio)
    const target = result.name === row.reference
      ? "reference"
      : row.target !== undefined && result.layercake
      ? `≤${row.target.toFixed(2)}×`
      : "—"
    const range = result.values.length > 0
      ? `${result.values.length} (${figure(Math.min(...result.values))}–${figure(Math.max(...result.values))})`
      : "0"
    lines.push(
      `| ${result.name} | ${figure(value)} ${row.unit} | ${times(ratio)} | ${
        figure(median(result.cpu))
      } ${row.unit} | ${range} | ${target} | ${met === undefined ? "" : met ? "yes" : "**no**"} | ${notesOf(result)} |`
    )
  }
  return lines.join("\n")
}
