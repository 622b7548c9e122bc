/**
 * One memory measurement, run in a fresh process by `memory.ts`:
 *
 *   node --expose-gc --import tsx src/memory-child.ts <contender> <entries>
 *
 * Keys and values are generated first (identically in every process) and are
 * not counted; the contender's code is warmed up on a small instance that is
 * then dropped; after a full GC we take heapUsed + arrayBuffers, fill a new
 * instance bounded to `entries` with every key, GC again and print the delta as
 * one JSON line. So the delta is what the cache itself keeps per entry: its
 * index, bookkeeping, wrappers, key prefixes and (for caches that serialize)
 * its own copy of the value.
 */
import { CacheTier } from "@layercake/core"
import { MemoryTier } from "@layercake/memory"
import { BentoCache, bentostore } from "bentocache"
import { memoryDriver } from "bentocache/drivers/memory"
import { createCache } from "cache-manager"
import { Cacheable } from "cacheable"
import * as EffectCache from "effect/Cache"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { LRUCache } from "lru-cache"
import { setImmediate } from "node:timers/promises"
import { Profile, profile } from "./hitrate/profile.js"
import { makeLayercake } from "./peers.js"

const TTL_MS = 60_000
type Value = Profile

interface Contender {
  /** Builds an instance bounded to `max` entries holding `keys[i] -> values[i]`; returns it with a reader. */
  readonly fill: (
    keys: ReadonlyArray<string>,
    values: ReadonlyArray<Value>,
    max: number
  ) => Promise<{ readonly read: (key: string) => Promise<unknown>; readonly close?: () => Promise<void> }>
}

const bento = (serialize: boolean): Contender => ({
  fill: async (keys, values, max) => {
    const cache = new BentoCache({
      default: "memory",
      stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: max, serialize })) }
    })
    for (let i = 0; i < keys.length; i++) await cache.set({ key: keys[i], value: values[i], ttl: TTL_MS })
    return { read: (key) => cache.get({ key }), close: () => cache.disconnectAll() }
  }
})

const NO_TAGS: ReadonlyArray<string> = []

const memoryTier = (policy: "tinylfu" | "lru"): Contender => ({
  fill: async (keys, values, max) => {
    const tier = Effect.runSync(MemoryTier.make({ maxEntries: max, policy }))
    const now = Date.now()
    for (let i = 0; i < keys.length; i++) {
      const entry: CacheTier.Entry<Value> = {
        value: values[i],
        schema: Profile,
        createdAt: now,
        freshUntil: now + TTL_MS,
        staleUntil: now + TTL_MS,
        tags: NO_TAGS,
        negative: false
      }
      Effect.runSync(tier.set(keys[i], entry))
    }
    return {
      read: (key) =>
        Effect.runPromise(tier.get(key, Profile)).then((found) =>
          found instanceof CacheTier.DecodeFailure ? found : found?.value
        )
    }
  }
})

export const contenders: Record<string, Contender> = {
  "Map (no cache, reference)": {
    fill: async (keys, values) => {
      const map = new Map<string, Value>()
      for (let i = 0; i < keys.length; i++) map.set(keys[i], values[i])
      return { read: async (key) => map.get(key) }
    }
  },
  "lru-cache (max)": {
    fill: async (keys, values, max) => {
      const lru = new LRUCache<string, Value>({ max })
      for (let i = 0; i < keys.length; i++) lru.set(keys[i], values[i])
      return { read: async (key) => lru.get(key) }
    }
  },
  "lru-cache (max, ttl)": {
    fill: async (keys, values, max) => {
      const lru = new LRUCache<string, Value>({ max, ttl: TTL_MS })
      for (let i = 0; i < keys.length; i++) lru.set(keys[i], values[i])
      return { read: async (key) => lru.get(key) }
    }
  },
  "bentocache memory (serialize: true, default)": bento(true),
  "bentocache memory (serialize: false)": bento(false),
  "cache-manager (default Keyv Map store)": {
    fill: async (keys, values) => {
      const cache = createCache({ ttl: TTL_MS })
      for (let i = 0; i < keys.length; i++) await cache.set(keys[i], values[i])
      return { read: (key) => cache.get(key), close: () => cache.disconnect().then(() => undefined) }
    }
  },
  "cacheable (default CacheableMemory primary)": {
    fill: async (keys, values) => {
      const cache = new Cacheable({ ttl: TTL_MS })
      for (let i = 0; i < keys.length; i++) await cache.set(keys[i], values[i])
      return { read: (key) => cache.get(key), close: () => cache.disconnect() }
    }
  },
  "effect Cache (capacity, timeToLive)": {
    fill: async (keys, values, max) => {
      const cache = Effect.runSync(
        EffectCache.make({
          capacity: max,
          timeToLive: Duration.millis(TTL_MS),
          lookup: (_: string) => Effect.succeed<Value | undefined>(undefined)
        })
      )
      for (let i = 0; i < keys.length; i++) Effect.runSync(cache.set(keys[i], values[i]))
      return { read: (key) => Effect.runPromise(cache.getOption(key).pipe(Effect.map(Option.getOrUndefined))) }
    }
  },
  "layercake MemoryTier, tinylfu (tier.set)": memoryTier("tinylfu"),
  "layercake MemoryTier, lru (tier.set)": memoryTier("lru"),
  "layercake Cache over MemoryTier, tinylfu (cache.set)": {
    fill: async (keys, values, max) => {
      const { cache, close } = await makeLayercake({ maxEntries: max })
      for (let i = 0; i < keys.length; i++) Effect.runSync(cache.set(keys[i], Profile, values[i]))
      return {
        read: (key) => Effect.runPromise(cache.get(key, Profile).pipe(Effect.map(Option.getOrUndefined))),
        close
      }
    }
  }
}

const settle = async () => {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error("run with node --expose-gc")
  for (let i = 0; i < 3; i++) {
    gc()
    await setImmediate()
  }
}

const usage = () => {
  const { arrayBuffers, heapUsed } = process.memoryUsage()
  return { heapUsed, arrayBuffers }
}

const main = async () => {
  const [name, entriesArg] = process.argv.slice(2)
  const contender = contenders[name]
  if (contender === undefined) throw new Error(`unknown contender "${name}"; one of ${Object.keys(contenders)}`)
  const entries = Number(entriesArg ?? 100_000)

  const keys = Array.from({ length: entries }, (_, i) => `user:${i}`)
  const values: Array<Value> = keys.map((_, i) => profile(i))

  // warm-up: load lazy code and JIT the paths on a small, dropped instance
  const warm = await contender.fill(keys.slice(0, 2_000), values.slice(0, 2_000), 2_000)
  await warm.read(keys[0])
  await warm.close?.()

  await settle()
  const before = usage()
  const filled = await contender.fill(keys, values, entries)
  await settle()
  const after = usage()

  // every entry must still be there (nothing evicted or expired): check the oldest and the newest
  for (const i of [0, entries >> 1, entries - 1]) {
    const found = await filled.read(keys[i])
    if ((found as Value | undefined)?.id !== i) {
      throw new Error(`${name}: entry ${i} is missing after the fill: ${JSON.stringify(found)}`)
    }
  }
  const heap = after.heapUsed - before.heapUsed
  const arrayBuffers = after.arrayBuffers - before.arrayBuffers
  console.log(JSON.stringify({ name, entries, heap, arrayBuffers, perEntry: (heap + arrayBuffers) / entries }))
  await filled.close?.()
  process.exit(0)
}

if (process.argv[1]?.endsWith("memory-child.ts")) {
  main().catch((error) => {
    console.error(error)
    process.exit(1)
  })
}
