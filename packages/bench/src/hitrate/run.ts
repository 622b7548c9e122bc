/**
 * Hit rates of the memory store's eviction policies on seeded traces, next to
 * lru-cache, an exact-count LFU and Belady's optimum:
 *
 *   pnpm --filter @layercake/bench hitrate
 *
 * Every trace has 2 000 000 requests over 1 000 000 keys: Zipf 0.9 and 0.99;
 * Zipf 0.9 with a burst of 50 000 keys used once (never seen before, never
 * seen again) after every 150 000 requests, 500 000 such keys in all; and a
 * loop over 1.5 × the cache's capacity. Capacities: 0.1%, 1% and 10% of the
 * key space.
 *
 * Each cache replays the trace as cache-aside: a read, and on a miss a write
 * of the key. The layercake store is driven directly (`Store.lookup`, then
 * `Store.set` on a miss: the calls `MemoryTier`'s `sync.get` / `sync.set`
 * make, without building the `Entry` or reading the Clock), with a fixed seed,
 * so a run replays exactly. Prints one markdown table of hit rates in %.
 *
 * HITRATE_REQUESTS and HITRATE_KEYS scale the traces (defaults 2 000 000 and 1 000 000).
 */
import type { CacheTier } from "@layercake/core"
import * as Schema from "effect/Schema"
import { LRUCache } from "lru-cache"
import { Store } from "../../../memory/src/internal/store.js"
import { exactLfuHits } from "./lfu.js"
import { optimalHits } from "./optimal.js"
import { loop, type Trace, zipf, zipfWithScans } from "./traces.js"

const REQUESTS = Number(process.env.HITRATE_REQUESTS ?? 2_000_000)
const KEYS = Number(process.env.HITRATE_KEYS ?? 1_000_000)
const CAPACITY_SHARES = [0.001, 0.01, 0.1]
const SEED = 20_240_601

const NOW = 0
const ENTRY: CacheTier.Entry<number> = {
  value: 1,
  schema: Schema.Number,
  createdAt: NOW,
  freshUntil: Infinity,
  staleUntil: Infinity,
  tags: [],
  negative: false
}

/** Replays a trace against a cache of `capacity` entries; returns 1 for each request that hit. */
type Replay = (trace: Trace, keys: ReadonlyArray<string>, capacity: number) => Uint8Array

const layercake = (policy: "tinylfu" | "lru"): Replay => (trace, keys, capacity) => {
  const store = new Store({ maxEntries: capacity, maxBytes: undefined, policy, seed: SEED })
  const hits = new Uint8Array(trace.requests.length)
  trace.requests.forEach((id, i) => {
    const key = keys[id]
    if (store.lookup(key, NOW) !== undefined) hits[i] = 1
    else store.set(key, ENTRY, NOW, 0)
  })
  return hits
}

const lruCache: Replay = (trace, keys, capacity) => {
  const cache = new LRUCache<string, number>({ max: capacity })
  const hits = new Uint8Array(trace.requests.length)
  trace.requests.forEach((id, i) => {
    const key = keys[id]
    if (cache.get(key) !== undefined) hits[i] = 1
    else cache.set(key, 1)
  })
  return hits
}

const contenders: ReadonlyArray<readonly [string, Replay]> = [
  ["layercake tinylfu", layercake("tinylfu")],
  ["layercake lru", layercake("lru")],
  ["lru-cache", lruCache],
  ["exact LFU (reference)", (trace, _keys, capacity) => exactLfuHits(trace, capacity)],
  ["optimum (Belady)", (trace, _keys, capacity) => optimalHits(trace, capacity)]
]

/** Hit rate in % over the requests `counted` selects. */
const hitRate = (trace: Trace, hits: Uint8Array, counted: (id: number) => boolean) => {
  let requests = 0
  let hit = 0
  trace.requests.forEach((id, i) => {
    if (!counted(id)) return
    requests++
    hit += hits[i]
  })
  return ((100 * hit) / requests).toFixed(1)
}

const main = () => {
  const started = Date.now()
  const progress = (message: string) => process.stderr.write(message + "\n")
  const fixedTraces = [
    zipf(REQUESTS, KEYS, 0.9, SEED),
    zipf(REQUESTS, KEYS, 0.99, SEED + 1),
    zipfWithScans(REQUESTS, KEYS, 0.9, Math.round(REQUESTS * 0.075), Math.round(KEYS / 20), SEED + 2)
  ]
  const keySpace = Math.max(...fixedTraces.map((trace) => trace.keySpace), Math.ceil(KEYS * 0.15))
  const keys = Array.from({ length: keySpace }, (_, id) => `key:${id}`)
  const rows: Array<string> = []
  for (const share of CAPACITY_SHARES) {
    const capacity = Math.round(KEYS * share)
    const size = `${capacity.toLocaleString("en")} (${share * 100}%)`
    for (const trace of [...fixedTraces, loop(REQUESTS, Math.round(capacity * 1.5))]) {
      const hits = contenders.map(([name, replay]) => {
        const start = Date.now()
        const flags = replay(trace, keys, capacity)
        progress(
          `  ${trace.name}, ${capacity}: ${name} ${hitRate(trace, flags, () => true)}% (${Date.now() - start} ms)`
        )
        return flags
      })
      rows.push(`| ${trace.name} | ${size} | ${hits.map((flags) => hitRate(trace, flags, () => true)).join(" | ")} |`)
      const { scannedFrom } = trace
      if (scannedFrom !== undefined) {
        const zipfOnly = hits.map((flags) => hitRate(trace, flags, (id) => id < scannedFrom))
        rows.push(`| ... of which the Zipf requests | ${size} | ${zipfOnly.join(" | ")} |`)
      }
    }
  }
  console.log(`## Hit rate (%), ${REQUESTS.toLocaleString("en")} requests per trace\n`)
  console.log(
    `| trace | capacity (of ${KEYS.toLocaleString("en")} keys) | ${contenders.map(([name]) => name).join(" | ")} |`
  )
  console.log(`|---|---:|${contenders.map(() => "---:").join("|")}|`)
  for (const row of rows) console.log(row)
  console.log(`\n_${((Date.now() - started) / 1000).toFixed(0)} s, seed ${SEED}_`)
}

main()
