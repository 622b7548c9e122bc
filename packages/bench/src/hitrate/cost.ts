/**
 * What the memory store's own operations cost, next to what surrounds them:
 *
 *   pnpm --filter @layercake/bench exec tsx src/hitrate/cost.ts
 *
 * - `store.lookup` on a hit: 1 000 hot keys passed as the same string objects
 *   (V8 keeps a string's hash, which a `Map` reuses), the same keys built fresh
 *   per call as `Cache` builds them (`prefix + key`), and random keys of a full
 *   store of 100 000; a miss;
 * - `store.set`: overwriting a resident key, and writing a new key into a full
 *   store (an eviction each time);
 * - the tier's synchronous `sync.get` / `sync.set` (what `Cache` calls; `get`
 *   builds the `Entry` object);
 * - `Cache.set` of a ~1 KB value into a memory tier next to a bare
 *   `Schema.encodeSync` of it;
 * - whether a hit allocates: garbage collections during 10 000 000 hits.
 *
 * With `BEFORE=<dir>` the store of an earlier commit runs in the same process,
 * interleaved (its `store.ts` and `tagIndex.ts`, whose constructor is
 * `new Store(maxEntries, maxBytes)`):
 *
 *   mkdir -p /tmp/before && for f in store tagIndex; do
 *     git show <commit>:packages/memory/src/internal/$f.ts > /tmp/before/$f.ts; done
 *   BEFORE=/tmp/before pnpm --filter @layercake/bench exec tsx src/hitrate/cost.ts
 */
import type { CacheTier } from "@layercake/core"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { PerformanceObserver } from "node:perf_hooks"
import { resolve } from "../../../memory/src/internal/options.js"
import { Store } from "../../../memory/src/internal/store.js"
import { fromStore } from "../../../memory/src/internal/tier.js"
import { effectCase, genLoop, measure, sink, syncCase, timeTable } from "../harness.js"
import { makeLayercake } from "../peers.js"
import { Profile, profile } from "./profile.js"

/** The calls the cases make, the same for this commit's store and an earlier one. */
interface AnyStore {
  readonly lookup: (key: string, now: number) => number | undefined
  readonly set: (key: string, entry: CacheTier.Entry<any>, now: number, bytes: number) => void
}
type MakeStore = (maxEntries: number) => AnyStore

const NOW = 1_000
const entryOf = (value: Profile): CacheTier.Entry<Profile> => ({
  value,
  schema: Profile,
  createdAt: NOW,
  freshUntil: NOW + 3_600_000,
  staleUntil: NOW + 3_600_000,
  tags: [],
  negative: false
})

const PREFIX = "bench:"
const FULL = 100_000
const suffixes = Array.from({ length: 2 * FULL }, (_, i) => `user:${i}`)
const keys = suffixes.map((suffix) => PREFIX + suffix)
const entries = Array.from({ length: 2 * FULL }, (_, i) => entryOf(profile(i)))
const randomOrder = Int32Array.from({ length: 1 << 20 }, () => Math.floor(Math.random() * FULL))

const filled = (make: MakeStore, maxEntries: number, count: number) => {
  const store = make(maxEntries)
  for (let i = 0; i < count; i++) store.set(keys[i], entries[i], NOW, 0)
  return store
}

const storeCases = (name: string, make: MakeStore) => {
  const hot = filled(make, 10_000, 1_000)
  const full = filled(make, FULL, FULL)
  const churn = filled(make, 10_000, 10_000)
  let i = 0
  let r = 0
  let n = 0
  return [
    syncCase(`${name}: store.lookup hit (1 000 hot keys)`, () => hot.lookup(keys[i++ & 511], NOW)),
    syncCase(
      `${name}: store.lookup hit (1 000 hot keys, built per call)`,
      () => hot.lookup(PREFIX + suffixes[i++ & 511], NOW)
    ),
    syncCase(
      `${name}: store.lookup hit (random of 100 000)`,
      () => full.lookup(keys[randomOrder[r++ & 0xfffff]], NOW)
    ),
    syncCase(`${name}: store.lookup miss`, () => hot.lookup(keys[FULL + (i++ & 1023)], NOW)),
    syncCase(
      `${name}: store.set overwrite (1 000 hot keys)`,
      () => hot.set(keys[i & 511], entries[i++ & 511], NOW, 0)
    ),
    syncCase(`${name}: store.set new key into a full store (evicts)`, () => {
      const k = 10_000 + (n++ % 150_000)
      churn.set(keys[k], entries[k], NOW, 0)
    })
  ]
}

/** Number of garbage collections while `body` runs `times` times: 0 means no allocation worth a scavenge. */
const gcsDuring = async (times: number, body: () => unknown): Promise<number> => {
  let gcs = 0
  const observer = new PerformanceObserver((list) => {
    gcs += list.getEntries().length
  })
  observer.observe({ entryTypes: ["gc"] })
  for (let i = 0; i < times; i++) sink.value = body()
  await new Promise((resolve) => setTimeout(resolve, 50))
  observer.disconnect()
  return gcs
}

const tierCases = () => {
  const options = resolve({ maxEntries: 10_000 })
  const tier = fromStore(new Store(options), options)
  for (let i = 0; i < 1_000; i++) tier.sync!.set(keys[i], entries[i], NOW)
  let i = 0
  return [
    syncCase(
      "tinylfu: tier.sync.get hit (builds the Entry)",
      () => tier.sync!.get(keys[i++ & 511], Profile, undefined, NOW)
    ),
    syncCase("tinylfu: tier.sync.set overwrite", () => tier.sync!.set(keys[i & 511], entries[i++ & 511], NOW))
  ]
}

const ENCODE = "Schema.encodeSync(Profile) (~1 KB)"

const cacheCases = async () => {
  const { cache } = await makeLayercake({ maxEntries: 10_000 })
  const encode = Schema.encodeSync(Profile)
  const value = entries[0].value
  let i = 0
  return [
    syncCase(ENCODE, () => encode(entries[i++ & 511].value)),
    effectCase("Schema.encodeSync (~1 KB) [gen loop]", (n) => genLoop(Effect.sync(() => encode(value)), n)),
    effectCase("Cache.set (~1 KB, memory tier, tinylfu) [gen loop]", (n) => genLoop(cache.set("k", Profile, value), n))
  ]
}

const main = async () => {
  const progress = (message: string) => process.stderr.write(message + "\n")
  const stores: Array<readonly [string, MakeStore]> = [
    ["tinylfu", (maxEntries) => new Store({ maxEntries, maxBytes: undefined, policy: "tinylfu" })],
    ["lru", (maxEntries) => new Store({ maxEntries, maxBytes: undefined, policy: "lru" })]
  ]
  if (process.env.BEFORE !== undefined) {
    const before = await import(`${process.env.BEFORE}/store.ts`)
    stores.push(["before", (maxEntries) => new before.Store(maxEntries, undefined) as AnyStore])
  }
  const results = await measure("memory store", [
    ...stores.flatMap(([name, make]) => storeCases(name, make)),
    ...tierCases(),
    ...(await cacheCases())
  ], { onProgress: progress })
  console.log(timeTable(results, [ENCODE]))
  console.log()
  for (const [name, make] of stores) {
    const hot = filled(make, 10_000, 1_000)
    let i = 0
    for (let n = 0; n < 1_000_000; n++) hot.lookup(keys[n & 511], NOW)
    const gcs = await gcsDuring(10_000_000, () => hot.lookup(keys[i++ & 511], NOW))
    console.log(`- ${name}: ${gcs} garbage collections during 10 000 000 store.lookup hits`)
  }
}

main().then(() => process.exit(0), (error) => {
  console.error(error)
  process.exit(1)
})
