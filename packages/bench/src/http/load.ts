/**
 * The load generator of `bench:http`, in its own process: `connections`
 * keep-alive connections (a `node:http` Agent), each sending one request after
 * another (closed loop) for `warmup` seconds unmeasured, then `duration`
 * seconds measured. Prints one JSON line: requests/s, latency p50/p99 (ms),
 * the statuses and `Cache-Status` values seen.
 *
 *   load.ts --url http://127.0.0.1:PORT/users --connections 32 --duration 5 --warmup 1 [--header "if-none-match: \"x\""]
 */
import * as Http from "node:http"
import { parseArgs } from "node:util"

export interface LoadResult {
  readonly requests: number
  readonly seconds: number
  readonly requestsPerSecond: number
  readonly p50Ms: number
  readonly p99Ms: number
  /** Counts by status and `Cache-Status` (its ttl left out): `{ "200 layercake; hit": 51234 }`. */
  readonly answers: Record<string, number>
}

const { values: args } = parseArgs({
  options: {
    url: { type: "string" },
    connections: { type: "string", default: "32" },
    duration: { type: "string", default: "5" },
    warmup: { type: "string", default: "1" },
    header: { type: "string", multiple: true, default: [] }
  }
})
if (args.url === undefined) throw new Error("--url is required")
const url = new URL(args.url)
const connections = Number(args.connections)
const headers: Record<string, string> = {}
for (const header of args.header) {
  const colon = header.indexOf(":")
  headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim()
}

const agent = new Http.Agent({ keepAlive: true, maxSockets: connections })

interface Answer {
  readonly status: number
  readonly cacheStatus: string
}

const once = () =>
  new Promise<Answer>((resolve, reject) => {
    const request = Http.request(
      { agent, host: url.hostname, port: url.port, path: url.pathname + url.search, headers },
      (response) => {
        response.resume() // read the body to its end, as a client would
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            cacheStatus: String(response.headers["cache-status"] ?? "none").replace(/; ttl=\d+/, "")
          }))
        response.on("error", reject)
      }
    )
    request.on("error", reject)
    request.end()
  })

/** Runs the closed loop until `until` (ms, performance.now), recording when `latencies` is given. */
const loop = async (until: number, latencies: Array<number> | undefined, seen: Map<string, number>) => {
  while (performance.now() < until) {
    const start = performance.now()
    const answer = await once()
    if (latencies !== undefined) {
      latencies.push(performance.now() - start)
      const key = `${answer.status} ${answer.cacheStatus}`
      seen.set(key, (seen.get(key) ?? 0) + 1)
    }
  }
}

const percentile = (sorted: Float64Array, p: number) =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]

const seen = new Map<string, number>()
const warmupEnd = performance.now() + Number(args.warmup) * 1000
await Promise.all(Array.from({ length: connections }, () => loop(warmupEnd, undefined, seen)))

const latencies: Array<number> = []
const start = performance.now()
const end = start + Number(args.duration) * 1000
await Promise.all(Array.from({ length: connections }, () => loop(end, latencies, seen)))
const seconds = (performance.now() - start) / 1000
agent.destroy()

const sorted = Float64Array.from(latencies).sort()
const result: LoadResult = {
  requests: latencies.length,
  seconds,
  requestsPerSecond: latencies.length / seconds,
  p50Ms: percentile(sorted, 0.5),
  p99Ms: percentile(sorted, 0.99),
  answers: Object.fromEntries(seen)
}
process.stdout.write(`${JSON.stringify(result)}\n`)
