/**
 * The in-memory rows: miss with an instant compute, L1 hit inside one
 * program, L1 hit with one `runPromise` per call, and `Cache.set`. Every
 * Effect contender runs on a `ManagedRuntime` made once; layercake is a
 * `Cache` over `CacheTier.stack(MemoryTier)`, reached through the accessors
 * with the Schema passed every call.
 *
 * What each contender does per read:
 * - effect `Cache.get`: a `MutableHashMap` lookup, the entry's expiry check,
 *   its LRU bookkeeping; no Schema;
 * - bentocache `getOrSet` (memory driver, `serialize: true` by default): the
 *   L1 lookup and a `JSON.parse` of the stored entry, as a promise;
 * - lru-cache `get`: a `Map` lookup, the TTL check, the LRU move; synchronous;
 * - layercake `Cache.getOrCompute` / `Cache.get`: the accessor, the memory
 *   tier's lookup (the value kept decoded, read back as is with the same
 *   schema), the freshness decision, the hit counter.
 */
import { Cache, CacheTier } from "@layercake/core"
import { MemoryTier } from "@layercake/memory"
import { BentoCache, bentostore } from "bentocache"
import { memoryDriver } from "bentocache/drivers/memory"
import * as EffectCache from "effect/Cache"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { LRUCache } from "lru-cache"
import { MAX_ENTRIES, TTL_MS } from "./l2.js"
import { awaitEach, calibrated, type Contender, type Env, sink } from "./measure.js"
import { type Profile, profile, ProfileSchema, tiny, TinySchema } from "./profile.js"

/** A cached value and its Schema: the ~1 KB profile, or the tiny value of the secondary row. */
export interface Value<A extends { readonly id: number } = any, I = any> {
  readonly schema: Schema.Schema<A, I>
  readonly value: A
}

const profileValue = profile(1)
export const PROFILE: Value<Profile, typeof ProfileSchema.Encoded> = { schema: ProfileSchema, value: profileValue }
export const TINY: Value<typeof tiny, typeof TinySchema.Encoded> = { schema: TinySchema, value: tiny }

const KEY = "user:1"

const expectId = (id: number) => (last: unknown) => {
  const found = Option.isOption(last) ? Option.getOrUndefined(last) : last
  if ((found as { readonly id?: number } | undefined)?.id !== id) {
    throw new Error(`expected the value of id ${id}, got ${JSON.stringify(found)?.slice(0, 80)}`)
  }
}

/** `n` runs of `body` in ONE program, `Effect.whileLoop` (no generator); gives the last value. */
const whileLoop = <A, E, R>(n: number, body: () => Effect.Effect<A, E, R>) => {
  let i = 0
  let last: A | undefined
  return Effect.whileLoop({
    while: () => i < n,
    body,
    step: (value) => {
      last = value
      i++
    }
  }).pipe(Effect.map(() => last))
}

const layercakeRuntime = async () => {
  const runtime = ManagedRuntime.make(
    Cache.layer({ namespace: "user", defaultTtl: TTL_MS }).pipe(
      Layer.provide(CacheTier.stack(MemoryTier.layer({ maxEntries: MAX_ENTRIES })))
    )
  )
  await runtime.runPromise(Effect.void)
  return runtime
}

const effectCacheOf = async (value: Value) => {
  const runtime = ManagedRuntime.make(Layer.empty)
  const cache = await runtime.runPromise(
    EffectCache.make({
      capacity: MAX_ENTRIES,
      timeToLive: TTL_MS,
      lookup: (_key: string) => Effect.succeed(value.value)
    })
  )
  return { runtime, cache }
}

/** A layercake cache holding `KEY`, and a check that it served hits only. */
const layercakeWithKey = async (value: Value) => {
  const runtime = await layercakeRuntime()
  let unexpected = 0
  const load = () =>
    Effect.sync(() => {
      unexpected++
      return value.value
    })
  return {
    runtime,
    load,
    prepare: () => runtime.runPromise(Cache.set(KEY, value.schema, value.value)),
    check: async (last: unknown) => {
      expectId(value.value.id)(last)
      const stats = await runtime.runPromise(Cache.stats)
      if (unexpected > 0 || stats.misses > 0 || stats.computes > 0) {
        throw new Error(`layercake served something other than L1 hits: ${JSON.stringify(stats)}`)
      }
    }
  }
}

// Row 4: a miss with an instant compute, distinct keys, one program.

// Both caches are filled to their bound first, so every timed miss also evicts (a service's steady state).

export const missEffectCache = async (env: Env): Promise<Contender> => {
  const { cache, runtime } = await effectCacheOf(PROFILE)
  let next = 0
  await runtime.runPromise(whileLoop(MAX_ENTRIES, () => cache.get(`miss:${next++}`)))
  return calibrated({
    targetMs: env.targetMs,
    batch: (n) => runtime.runPromise(whileLoop(n, () => cache.get(`miss:${next++}`))),
    check: expectId(PROFILE.value.id),
    close: () => runtime.dispose()
  })
}

export const missLayercake = async (env: Env): Promise<Contender> => {
  const runtime = await layercakeRuntime()
  let next = 0
  await runtime.runPromise(
    whileLoop(MAX_ENTRIES, () => Cache.getOrCompute(`miss:${next++}`, ProfileSchema, Effect.succeed(profileValue)))
  )
  let runs = MAX_ENTRIES
  return calibrated({
    targetMs: env.targetMs,
    batch: (n) => {
      runs += n
      return runtime.runPromise(
        whileLoop(n, () => Cache.getOrCompute(`miss:${next++}`, ProfileSchema, Effect.succeed(profileValue)))
      )
    },
    check: async (last) => {
      expectId(PROFILE.value.id)(last)
      const stats = await runtime.runPromise(Cache.stats)
      if (stats.computes !== runs) throw new Error(`expected ${runs} computes (misses), got ${stats.computes}`)
    },
    close: () => runtime.dispose()
  })
}
// Rows 5 and s1: an L1 hit inside one program (a loop of the library's own kind).

export const hitEffectCache = (value: Value) => async (env: Env): Promise<Contender> => {
  const { cache, runtime } = await effectCacheOf(value)
  return calibrated({
    targetMs: env.targetMs,
    prepare: () => runtime.runPromise(cache.set(KEY, value.value)),
    batch: (n) => runtime.runPromise(whileLoop(n, () => cache.get(KEY))),
    check: expectId(value.value.id),
    close: () => runtime.dispose()
  })
}

export const hitBento = (value: Value) => async (env: Env): Promise<Contender> => {
  const bento = new BentoCache({
    default: "memory",
    ttl: TTL_MS,
    stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: MAX_ENTRIES })) }
  })
  let factoryCalls = 0
  const factory = () => {
    factoryCalls++
    return value.value
  }
  return calibrated({
    targetMs: env.targetMs,
    prepare: () => bento.set({ key: KEY, value: value.value }),
    batch: (n) => awaitEach(n, () => bento.getOrSet({ key: KEY, factory })),
    check: (last) => {
      expectId(value.value.id)(last)
      if (factoryCalls > 0) throw new Error(`bentocache ran its factory ${factoryCalls} times on a hit`)
    },
    close: () => bento.disconnectAll()
  })
}

export const hitLru = (value: Value) => async (env: Env): Promise<Contender> => {
  const lru = new LRUCache<string, { readonly id: number }>({ max: MAX_ENTRIES, ttl: TTL_MS })
  const loop = (n: number) => {
    let last: unknown
    for (let i = 0; i < n; i++) last = lru.get(KEY)
    sink.value = last
    return last
  }
  return calibrated({
    targetMs: env.targetMs,
    prepare: async () => lru.set(KEY, value.value),
    batch: async (n) => loop(n),
    check: expectId(value.value.id)
  })
}

export const hitLayercakeLoop = (value: Value, accessor: "getOrCompute" | "get") => async (env: Env) => {
  const { check, load, prepare, runtime } = await layercakeWithKey(value)
  const read: () => Effect.Effect<unknown, unknown, Cache.Cache> = accessor === "get"
    ? () => Cache.get(KEY, value.schema)
    : () => Cache.getOrCompute(KEY, value.schema, load())
  return calibrated({
    targetMs: env.targetMs,
    prepare,
    batch: (n) => runtime.runPromise(whileLoop(n, read)),
    check,
    close: () => runtime.dispose()
  })
}

// Row 6: an L1 hit, one runPromise per call from plain async code (an HTTP handler's shape).

export const runPromiseFloor = async (env: Env): Promise<Contender> => {
  const runtime = await layercakeRuntime()
  return calibrated({
    targetMs: env.targetMs,
    batch: (n) => awaitEach(n, () => runtime.runPromise(Effect.succeed(profileValue))),
    check: expectId(PROFILE.value.id),
    close: () => runtime.dispose()
  })
}

export const runPromiseEffectCache = async (env: Env): Promise<Contender> => {
  const { cache, runtime } = await effectCacheOf(PROFILE)
  return calibrated({
    targetMs: env.targetMs,
    prepare: () => runtime.runPromise(cache.set(KEY, PROFILE.value)),
    batch: (n) => awaitEach(n, () => runtime.runPromise(cache.get(KEY))),
    check: expectId(PROFILE.value.id),
    close: () => runtime.dispose()
  })
}

export const runPromiseLayercake = (accessor: "getOrCompute" | "get") => async (env: Env): Promise<Contender> => {
  const { check, load, prepare, runtime } = await layercakeWithKey(PROFILE)
  const schema = ProfileSchema
  const batch = accessor === "get"
    ? (n: number) => awaitEach(n, () => runtime.runPromise(Cache.get(KEY, schema)))
    : (n: number) => awaitEach(n, () => runtime.runPromise(Cache.getOrCompute(KEY, schema, load())))
  return calibrated({ targetMs: env.targetMs, prepare, batch, check, close: () => runtime.dispose() })
}

// Row 7: Cache.set of the profile into memory against the Schema encode it cannot avoid.

const SET_KEYS = 1000

export const encodeFloor = async (env: Env): Promise<Contender> => {
  const runtime = await layercakeRuntime()
  const encode = Schema.encode(ProfileSchema)
  return calibrated({
    targetMs: env.targetMs,
    batch: (n) => runtime.runPromise(whileLoop(n, () => encode(profileValue))),
    check: expectId(PROFILE.value.id),
    close: () => runtime.dispose()
  })
}

export const setLayercake = async (env: Env): Promise<Contender> => {
  const runtime = await layercakeRuntime()
  let next = 0
  return calibrated({
    targetMs: env.targetMs,
    batch: (n) =>
      runtime.runPromise(whileLoop(n, () => Cache.set(`set:${next++ % SET_KEYS}`, ProfileSchema, profileValue))),
    check: async () => expectId(PROFILE.value.id)(await runtime.runPromise(Cache.get("set:0", ProfileSchema))),
    close: () => runtime.dispose()
  })
}
