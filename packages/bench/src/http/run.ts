/**
 * HTTP requests/s with and without `HttpCache.middleware`, on this machine:
 * `pnpm bench:http [options]` (or `pnpm --filter @layercake/bench bench:http`).
 *
 * The origin (`server.ts`): `GET /users`, ~1 ms of CPU then a ~1 KB JSON
 * render, `Cache-Control: public, max-age=3600` and an ETag. Three rows:
 *   origin           the app alone: every request runs the handler
 *   floor            the same bytes with no work and no middleware: the server's own cost
 *   cached hit       the same app behind the middleware (warmed): every request a hit
 *   cached 304       the same, with the stored ETag in If-None-Match: a 304 from the cache
 * The server and the load generator (`load.ts`, keep-alive `node:http`
 * connections in a closed loop) are separate processes, pinned to CPU 0 and
 * CPU 1 with `taskset` when it works here (both servers on CPU 0; only the
 * row's server is under load). Ratio: the row's req/s over the origin's.
 *
 * Options:
 *   --connections 32   concurrent keep-alive connections
 *   --duration 3       measured seconds per sample (after --warmup seconds unmeasured)
 *   --warmup 1
 *   --rounds 3         samples per row, round-robin over the rows; the table shows medians
 *   --pin split        split (default): server on CPU 0, load on CPU 1; none: no taskset
 */
import { spawn, spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import type { LoadResult } from "./load.js"

const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: {
    connections: { type: "string", default: "32" },
    duration: { type: "string", default: "3" },
    rounds: { type: "string", default: "3" },
    warmup: { type: "string", default: "1" },
    pin: { type: "string", default: "split" }
  }
})
const rounds = Number(args.rounds)
if (!(rounds >= 1)) throw new Error("--rounds must be at least 1")

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url))
const packageDir = here("../..")
const pinned = args.pin === "split" && spawnSync("taskset", ["-c", "1", "true"]).status === 0

/** `node` with tsx (and the workspace's sources, not dist), pinned to `cpu` when pinning. */
const command = (cpu: number, script: string, scriptArgs: ReadonlyArray<string>) => {
  const node = [process.execPath, "--conditions=@layercake/source", "--import", "tsx", script, ...scriptArgs]
  return pinned ? ["taskset", "-c", String(cpu), ...node] : node
}

interface Server {
  readonly port: number
  readonly stop: () => void
}

const startServer = (mode: "origin" | "cached") =>
  new Promise<Server>((resolve, reject) => {
    const [file, ...rest] = command(0, here("./server.ts"), [mode])
    const child = spawn(file, rest, { cwd: packageDir, stdio: ["ignore", "pipe", "inherit"] })
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8")
      const line = output.split("\n").find((line) => line.startsWith("{\"port\""))
      if (line !== undefined) resolve({ port: JSON.parse(line).port, stop: () => child.kill("SIGINT") })
    })
    child.on("exit", (code) => reject(new Error(`server ${mode} exited (${code}) before listening: ${output}`)))
  })

const runLoad = (url: string, headers: ReadonlyArray<string>) =>
  new Promise<LoadResult>((resolve, reject) => {
    const loadArgs = [
      "--url",
      url,
      "--connections",
      args.connections,
      "--duration",
      args.duration,
      "--warmup",
      args.warmup,
      ...headers.flatMap((header) => ["--header", header])
    ]
    const [file, ...rest] = command(1, here("./load.ts"), loadArgs)
    const child = spawn(file, rest, { cwd: packageDir, stdio: ["ignore", "pipe", "inherit"] })
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")))
    child.on("exit", (code) =>
      code === 0 ? resolve(JSON.parse(output.trim().split("\n").at(-1)!)) : reject(new Error(`load exited ${code}`)))
  })

// Both servers run for the whole bench (an idle one costs nothing); the rows
// go round-robin, `rounds` times, and each figure is the median over rounds,
// so that a burst of other work on the machine moves one sample, not a row.
const origin = await startServer("origin")
const cached = await startServer("cached")
const rows: Array<{ readonly name: string; readonly url: string; readonly headers: ReadonlyArray<string> }> = []
try {
  const cachedUrl = `http://127.0.0.1:${cached.port}/users`
  const first = await fetch(cachedUrl)
  const etag = first.headers.get("etag") ?? "\"users-v1\""
  await first.text()
  rows.push(
    { name: "origin", url: `http://127.0.0.1:${origin.port}/users`, headers: [] },
    { name: "floor (no work, no cache)", url: `http://127.0.0.1:${origin.port}/floor`, headers: [] },
    { name: "cached hit", url: cachedUrl, headers: [] },
    { name: "cached 304", url: cachedUrl, headers: [`if-none-match: ${etag}`] }
  )
} catch (error) {
  origin.stop()
  cached.stop()
  throw error
}
const samples: Array<Array<LoadResult>> = rows.map(() => [])
try {
  for (let round = 0; round < rounds; round++) {
    for (const [index, row] of rows.entries()) samples[index].push(await runLoad(row.url, row.headers))
  }
} finally {
  origin.stop()
  cached.stop()
}

const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}
const results = samples.map((results) => ({
  requestsPerSecond: median(results.map((result) => result.requestsPerSecond)),
  p50Ms: median(results.map((result) => result.p50Ms)),
  p99Ms: median(results.map((result) => result.p99Ms)),
  answers: results.reduce<Record<string, number>>((all, result) => {
    for (const [answer, count] of Object.entries(result.answers)) all[answer] = (all[answer] ?? 0) + count
    return all
  }, {}),
  spread: results.map((result) => result.requestsPerSecond.toFixed(0)).join(" / ")
}))
const originRps = results[0].requestsPerSecond
const table = [
  ["", "req/s", "p50 ms", "p99 ms", "ratio", "req/s per round", "answers (all rounds)"],
  ...rows.map(({ name }, index) => {
    const result = results[index]
    return [
      name,
      result.requestsPerSecond.toFixed(0),
      result.p50Ms.toFixed(2),
      result.p99Ms.toFixed(2),
      `${(result.requestsPerSecond / originRps).toFixed(1)}×`,
      result.spread,
      Object.entries(result.answers).map(([answer, count]) => `${answer} ×${count}`).join(", ")
    ]
  })
]
const widths = table[0].map((_, column) => Math.max(...table.map((row) => row[column].length)))
console.log(
  `bench:http — ${args.connections} keep-alive connections; per row ${rounds} rounds of ${args.warmup} s warm-up + ${args.duration} s, medians; ` +
    (pinned ? "server on CPU 0, load generator on CPU 1 (taskset)" : "not pinned")
)
for (const row of table) {
  console.log(
    row.map((cell, column) => column === 0 || column >= 5 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))
      .join("  ")
  )
}
