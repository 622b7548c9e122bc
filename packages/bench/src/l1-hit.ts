/**
 * The L1 hit, sequential: the operation users run millions of times. Every
 * case reads the one present key `KEY`, one call after the other.
 *
 * - sync libraries: a plain loop of calls;
 * - promise-based libraries: an async loop awaiting each call;
 * - Effect-based caches: N calls inside ONE Effect program, in two loop
 *   styles: `repeat` (a hand-written `suspend`/`flatMap` chain, no generator)
 *   and `gen` (an `Effect.gen` for-loop, how most application code reads;
 *   in Effect 3.22 the cheaper of the two, see the floors).
 *
 * Floors (`Effect.succeed` in each loop style, `await` of a resolved promise)
 * show what the loop itself costs; subtract them to get the cache's own cost.
 */
import * as Effect from "effect/Effect"
import { asyncCase, type Case, effectCase, genLoop, measure, type MeasureOptions, repeat, syncCase } from "./harness.js"
import { KEY, type Peers, User, user, UserAgain } from "./peers.js"

export const GROUP = "L1 hit, sequential"

/** Both Effect loop styles for one effect. */
const effectCases = (name: string, effect: Effect.Effect<unknown, unknown>): ReadonlyArray<Case> => [
  effectCase(`${name} [repeat]`, (n) => repeat(effect, n)),
  effectCase(`${name} [gen]`, (n) => genLoop(effect, n))
]

export const cases = (peers: Peers): ReadonlyArray<Case> => {
  const {
    bento,
    bentoNoSerialize,
    cacheManager,
    cacheable,
    cacheableMemory,
    cacheableMemoryNoClone,
    effectCache,
    layercake,
    lru,
    map
  } = peers
  const resolved = Promise.resolve(user)
  const factory = () => Promise.resolve(user)
  const bentoGet = { key: KEY }
  const bentoGetOrSet = { key: KEY, factory, ttl: 60_000 }
  const compute = Effect.succeed(user)
  return [
    syncCase("Map.get", () => map.get(KEY)),
    syncCase("lru-cache get (ttl)", () => lru.get(KEY)),
    syncCase("cacheable CacheableMemory.get (sync, useClone: true, default)", () => cacheableMemory.get(KEY)),
    syncCase("cacheable CacheableMemory.get (sync, useClone: false)", () => cacheableMemoryNoClone.get(KEY)),
    asyncCase("await resolved promise (async floor)", () => resolved),
    asyncCase("bentocache get", () => bento.get(bentoGet)),
    asyncCase("bentocache getOrSet", () => bento.getOrSet(bentoGetOrSet)),
    asyncCase("bentocache get (serialize: false)", () => bentoNoSerialize.get(bentoGet)),
    asyncCase("cache-manager get", () => cacheManager.get(KEY)),
    asyncCase("cache-manager wrap", () => cacheManager.wrap(KEY, factory, 60_000)),
    asyncCase("cacheable get", () => cacheable.get(KEY)),
    asyncCase("cacheable getOrSet", () => cacheable.getOrSet(KEY, factory)),
    ...effectCases("Effect.succeed (loop floor)", Effect.succeed(user)),
    // references for reading the Effect rows: the cheapest Effect-wrapped LRU, and the Clock read every
    // time-aware Effect cache does (layercake's hit = this + its own bookkeeping)
    ...effectCases("Effect.sync(() => lru.get) (Effect-wrapped lru-cache)", Effect.sync(() => lru.get(KEY))),
    ...effectCases(
      "Effect.clockWith + Effect.succeed (Clock read)",
      Effect.clockWith((clock) => Effect.succeed(clock.unsafeCurrentTimeMillis() > 0 ? user : undefined))
    ),
    ...effectCases("effect Cache.get", effectCache.get(KEY)),
    ...effectCases("layercake getOrCompute", layercake.getOrCompute(KEY, User, compute)),
    ...effectCases("layercake get", layercake.get(KEY, User)),
    // the call built inside the loop, as `yield* cache.getOrCompute(...)` in user code: without and with
    // per-call options (an options object literal per call); the difference is the cost of the options
    effectCase("layercake getOrCompute, call built per iteration [gen]", (n) =>
      Effect.gen(function*() {
        for (let i = 0; i < n; i++) yield* layercake.getOrCompute(KEY, User, compute)
      })),
    effectCase(
      "layercake getOrCompute, call built per iteration, per-call options [gen]",
      (n) =>
        Effect.gen(function*() {
          for (let i = 0; i < n; i++) {
            yield* layercake.getOrCompute(KEY, User, compute, { ttl: "1 minute", tags: ["t"] })
          }
        })
    ),
    // read with a schema equal to, but not the same object as, the one the entry was written with
    effectCase(
      "layercake getOrCompute, other schema instance [repeat]",
      (n) => repeat(layercake.getOrCompute(KEY, UserAgain, compute), n)
    ),
    // the same, without the span the slow path opens: splits span cost from re-decoding cost
    effectCase(
      "layercake getOrCompute, other schema instance, tracer disabled [repeat]",
      (n) => Effect.withTracerEnabled(repeat(layercake.getOrCompute(KEY, UserAgain, compute), n), false)
    )
  ]
}

export const run = (peers: Peers, options?: MeasureOptions) => measure(GROUP, cases(peers), options)
