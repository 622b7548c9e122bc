/**
 * Memory per entry at `ENTRIES` entries of a ~1 KB user profile: each
 * contender is measured `RUNS` times, each time in a fresh
 * `node --expose-gc` process (see `memory-child.ts`), one process at a time;
 * we report the median. The memory tier is measured with both policies, next
 * to a bare `Map` and lru-cache. Alone (without the rest of `pnpm bench`),
 * from the sources:
 *
 *   pnpm --filter @layercake/bench exec node --conditions=@layercake/source --import tsx src/memory.ts
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { contenders } from "./memory-child.js"

export const ENTRIES = 100_000
export const RUNS = 3
export const BASELINE = "layercake MemoryTier, tinylfu (tier.set)"
export const REFERENCE = "Map (no cache, reference)"

export interface MemoryResult {
  readonly name: string
  readonly perEntry: number
  readonly heapPerEntry: number
  readonly arrayBuffersPerEntry: number
  readonly runs: ReadonlyArray<number>
}

const exec = promisify(execFile)
const child = fileURLToPath(new URL("./memory-child.ts", import.meta.url))
const packageDir = fileURLToPath(new URL("..", import.meta.url))

const measureOnce = async (name: string) => {
  const { stdout } = await exec(
    process.execPath,
    // run from the sources (`--conditions=@layercake/source`) when this process does
    [
      "--expose-gc",
      ...process.execArgv.filter((arg) => arg.startsWith("--conditions")),
      "--import",
      "tsx",
      child,
      name,
      String(ENTRIES)
    ],
    { cwd: packageDir, maxBuffer: 1 << 20 }
  )
  const line = stdout.trim().split("\n").pop()!
  return JSON.parse(line) as { heap: number; arrayBuffers: number; perEntry: number }
}

export const run = async (onProgress?: (message: string) => void): Promise<ReadonlyArray<MemoryResult>> => {
  const results: Array<MemoryResult> = []
  for (const name of Object.keys(contenders)) {
    const runs: Array<{ heap: number; arrayBuffers: number; perEntry: number }> = []
    for (let i = 0; i < RUNS; i++) runs.push(await measureOnce(name))
    runs.sort((a, b) => a.perEntry - b.perEntry)
    const middle = runs[Math.floor(runs.length / 2)]
    results.push({
      name,
      perEntry: middle.perEntry,
      heapPerEntry: middle.heap / ENTRIES,
      arrayBuffersPerEntry: middle.arrayBuffers / ENTRIES,
      runs: runs.map((r) => r.perEntry)
    })
    onProgress?.(`  ${name}: ${runs.map((r) => r.perEntry.toFixed(0)).join(", ")} B/entry`)
  }
  return results
}

export const table = (results: ReadonlyArray<MemoryResult>) => {
  const base = results.find((result) => result.name === BASELINE)!.perEntry
  const reference = results.find((result) => result.name === REFERENCE)!.perEntry
  const rows = results.map((result) =>
    `| ${result.name} | ${result.perEntry.toFixed(0)} | ${result.heapPerEntry.toFixed(0)} | ${
      result.arrayBuffersPerEntry.toFixed(0)
    } | ${(result.perEntry - reference).toFixed(0)} | ${(result.perEntry / base).toFixed(2)}× | ${
      result.runs.map((r) => r.toFixed(0)).join(", ")
    } |`
  )
  return [
    `| contender | bytes/entry (median) | of which JS heap | of which ArrayBuffers | more than a bare Map | vs ${BASELINE} | runs |`,
    "|---|---:|---:|---:|---:|---:|---|",
    ...rows
  ].join("\n")
}

if (process.argv[1]?.endsWith("memory.ts")) {
  run((message) => process.stderr.write(message + "\n")).then(
    (results) => {
      console.log(`## Memory per entry at ${ENTRIES.toLocaleString("en")} entries (bytes)\n`)
      console.log(table(results))
    },
    (error) => {
      console.error(error)
      process.exit(1)
    }
  )
}
