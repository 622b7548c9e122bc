/**
 * The stampede row: 1000 callers of one cold key, each its own promise (its
 * own `runPromise`, or its own peer call), launched synchronously in a loop;
 * the compute sleeps 50 ms. A sample is the wall time from the first launch
 * until all 1000 have resolved; beside it, the time of the launch loop alone
 * and how many times the compute ran (it must be once). Memory only.
 *
 * What each contender does per caller:
 * - single-flight (reference): a `Map` of values and a `Map` of promises in flight;
 * - lru-cache `fetch` with a `fetchMethod`: one fetch per key, later callers
 *   get the same promise;
 * - effect `Cache.get` (lookup = the compute) through `runPromise`: a fiber
 *   per caller joining the lookup's `Deferred`;
 * - bentocache `getOrSet` (memory driver): a per-key lock, the factory once,
 *   waiters re-read L1 after the lock;
 * - layercake `Cache.getOrCompute` through `runPromise`: a fiber per caller
 *   joining the key's shared compute.
 */
import { Cache, CacheTier } from "@layercake/core"
import { MemoryTier } from "@layercake/memory"
import { BentoCache, bentostore } from "bentocache"
import { memoryDriver } from "bentocache/drivers/memory"
import * as EffectCache from "effect/Cache"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { LRUCache } from "lru-cache"
import { MAX_ENTRIES, TTL_MS } from "./l2.js"
import { type Contender, timed } from "./measure.js"
import { type Profile, profile, ProfileSchema } from "./profile.js"

export const CALLERS = 1000
const COMPUTE_MS = 50

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** The stampede contender over `call`; `computes()` counts the computes run so far. */
const stampede = (
  call: (key: string) => Promise<Profile>,
  computes: () => number,
  close: () => Promise<void>
): Contender => {
  const promises = new Array<Promise<Profile>>(CALLERS)
  const run = async (key: string) => {
    const before = computes()
    const start = performance.now()
    for (let i = 0; i < CALLERS; i++) promises[i] = call(key)
    const launched = performance.now()
    const values = await Promise.all(promises)
    const end = performance.now()
    if (values.some((value) => value?.id !== 7)) throw new Error("a caller did not get the computed value")
    return { ms: end - start, launchMs: launched - start, computes: computes() - before }
  }
  return {
    warmUp: async () => {
      for (let w = 0; w < 3; w++) await run(`warm-${w}`)
    },
    sample: async (index) => {
      const { cpuMs, gcShare, result } = await timed(() => run(`cold-${index}`))
      return {
        value: result.ms,
        cpu: cpuMs,
        gcShare,
        extras: { launchMs: result.launchMs, computes: result.computes }
      }
    },
    close
  }
}

const counter = () => {
  let count = 0
  return {
    computes: () => count,
    /** The 50 ms compute as a promise. */
    compute: async () => {
      count++
      await sleep(COMPUTE_MS)
      return profile(7)
    },
    /** The 50 ms compute as an Effect, built per call like a handler builds it. */
    computeEffect: () =>
      Effect.suspend(() => {
        count++
        return Effect.as(Effect.sleep(COMPUTE_MS), profile(7))
      })
  }
}

export const singleFlight = async (): Promise<Contender> => {
  const { compute, computes } = counter()
  const values = new Map<string, Profile>()
  const inFlight = new Map<string, Promise<Profile>>()
  const get = (key: string): Promise<Profile> => {
    const value = values.get(key)
    if (value !== undefined) return Promise.resolve(value)
    let promise = inFlight.get(key)
    if (promise === undefined) {
      promise = compute().then((computed) => {
        values.set(key, computed)
        inFlight.delete(key)
        return computed
      })
      inFlight.set(key, promise)
    }
    return promise
  }
  return stampede(get, computes, () => Promise.resolve())
}

export const lruFetch = async (): Promise<Contender> => {
  const { compute, computes } = counter()
  const lru = new LRUCache<string, Profile>({ max: MAX_ENTRIES, ttl: TTL_MS, fetchMethod: compute })
  return stampede((key) => lru.fetch(key) as Promise<Profile>, computes, () => Promise.resolve())
}

export const effectCache = async (): Promise<Contender> => {
  const { computeEffect, computes } = counter()
  const runtime = ManagedRuntime.make(Layer.empty)
  const cache = await runtime.runPromise(
    EffectCache.make({ capacity: MAX_ENTRIES, timeToLive: TTL_MS, lookup: (_key: string) => computeEffect() })
  )
  return stampede((key) => runtime.runPromise(cache.get(key)), computes, () => runtime.dispose())
}

export const bentoMemory = async (): Promise<Contender> => {
  const { compute, computes } = counter()
  const bento = new BentoCache({
    default: "memory",
    ttl: TTL_MS,
    stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: MAX_ENTRIES })) }
  })
  return stampede((key) => bento.getOrSet({ key, factory: compute }), computes, () => bento.disconnectAll())
}

export const layercake = async (): Promise<Contender> => {
  const { computeEffect, computes } = counter()
  const runtime = ManagedRuntime.make(
    Cache.layer({ namespace: "user", defaultTtl: TTL_MS }).pipe(
      Layer.provide(CacheTier.stack(MemoryTier.layer({ maxEntries: MAX_ENTRIES })))
    )
  )
  await runtime.runPromise(Effect.void)
  return stampede(
    (key) => runtime.runPromise(Cache.getOrCompute(key, ProfileSchema, computeEffect())),
    computes,
    () => runtime.dispose()
  )
}
