/**
 * The L1 hit under concurrency, 256 reads of the one present key in flight;
 * ns per read. Two shapes:
 *
 * 1. Fan-out (`FANOUT_GROUP`): 256 reads started together and awaited
 *    together, batch after batch.
 *    - promise-based libraries: `Promise.all` of 256 calls;
 *    - Effect-based caches: `Effect.all` of 256 copies of the read (one fiber
 *      each) with `concurrency: "unbounded"` (and `256` for layercake and the
 *      floor), batches chained inside ONE Effect program.
 *    This includes the cost of the fan-out itself (for Effect: forking and
 *    joining a fiber per read), shown by the floor rows (`Promise.all` of
 *    resolved promises, `Effect.all` of `Effect.succeed`).
 *
 * 2. Workers (`WORKERS_GROUP`): 256 loops side by side, each reading the key
 *    N times in a row, like 256 request handlers that already exist: 256 async
 *    loops awaiting each call (N calibrated), or 256 fibers (`Effect.all` with
 *    `concurrency: "unbounded"`) each running an `Effect.gen` for-loop of
 *    `READS_PER_FIBER` reads, in ONE Effect program. No fan-out per read; the
 *    floors are the same loops around a resolved promise / `Effect.succeed`.
 */
import * as Effect from "effect/Effect"
import {
  type Case,
  effectCase,
  genLoop,
  measure,
  type MeasureOptions,
  promiseBatchCase,
  promiseWorkersCase,
  repeat
} from "./harness.js"
import { KEY, type Peers, User, user } from "./peers.js"

export const IN_FLIGHT = 256
export const FANOUT_GROUP = `L1 hit, ${IN_FLIGHT} in flight: fan-out per batch`
export const WORKERS_GROUP = `L1 hit, ${IN_FLIGHT} concurrent workers`
export const FANOUT_BASELINE = "layercake getOrCompute [Effect.all, concurrency unbounded]"
export const WORKERS_BASELINE = "layercake getOrCompute [256 fibers × gen loop]"

const effectBatch = (
  name: string,
  effect: Effect.Effect<unknown, unknown>,
  concurrency: "unbounded" | number = "unbounded"
): Case => {
  const batch = Effect.all(Array.from({ length: IN_FLIGHT }, () => effect), { concurrency, discard: true })
  return effectCase(`${name} [Effect.all, concurrency ${concurrency}]`, (n) => repeat(batch, n), IN_FLIGHT)
}

/**
 * Reads per fiber in the workers shape. Fixed (not calibrated) so that every
 * Effect row carries the same amortized cost of forking and joining its 256
 * fibers (about 12 µs per fiber here, so ~12 ns per read), which the floor row
 * shows and readers can subtract.
 */
export const READS_PER_FIBER = 1024

const effectWorkers = (name: string, effect: Effect.Effect<unknown, unknown>): Case =>
  effectCase(
    `${name} [${IN_FLIGHT} fibers × gen loop]`,
    (n) => Effect.all(Array.from({ length: IN_FLIGHT }, () => genLoop(effect, n)), { concurrency: "unbounded" }),
    IN_FLIGHT,
    READS_PER_FIBER
  )

const reads = (peers: Peers) => {
  const factory = () => Promise.resolve(user)
  const bentoGet = { key: KEY }
  const bentoGetOrSet = { key: KEY, factory, ttl: 60_000 }
  const compute = Effect.succeed(user)
  const { bento, cacheManager, cacheable, effectCache, layercake } = peers
  return {
    promise: [
      ["bentocache get", () => bento.get(bentoGet)],
      ["bentocache getOrSet", () => bento.getOrSet(bentoGetOrSet)],
      ["cache-manager get", () => cacheManager.get(KEY)],
      ["cache-manager wrap", () => cacheManager.wrap(KEY, factory, 60_000)],
      ["cacheable get", () => cacheable.get(KEY)],
      ["cacheable getOrSet", () => cacheable.getOrSet(KEY, factory)]
    ] as ReadonlyArray<readonly [string, () => PromiseLike<unknown>]>,
    effectCacheGet: effectCache.get(KEY),
    layercakeGetOrCompute: layercake.getOrCompute(KEY, User, compute),
    layercakeGet: layercake.get(KEY, User)
  }
}

export const fanOutCases = (peers: Peers): ReadonlyArray<Case> => {
  const r = reads(peers)
  const resolved = Promise.resolve(user)
  return [
    promiseBatchCase("Promise.all of resolved promises (floor)", IN_FLIGHT, () => resolved),
    ...r.promise.map(([name, body]) => promiseBatchCase(name, IN_FLIGHT, body)),
    effectBatch("Effect.succeed (floor)", Effect.succeed(user)),
    effectBatch("Effect.succeed (floor)", Effect.succeed(user), IN_FLIGHT),
    effectBatch("effect Cache.get", r.effectCacheGet),
    effectBatch("layercake getOrCompute", r.layercakeGetOrCompute),
    effectBatch("layercake getOrCompute", r.layercakeGetOrCompute, IN_FLIGHT),
    effectBatch("layercake get", r.layercakeGet)
  ]
}

export const workerCases = (peers: Peers): ReadonlyArray<Case> => {
  const r = reads(peers)
  const resolved = Promise.resolve(user)
  return [
    promiseWorkersCase("await resolved promise (floor) [256 async loops]", IN_FLIGHT, () => resolved),
    ...r.promise.map(([name, body]) => promiseWorkersCase(`${name} [256 async loops]`, IN_FLIGHT, body)),
    effectWorkers("Effect.succeed (floor)", Effect.succeed(user)),
    effectWorkers("effect Cache.get", r.effectCacheGet),
    effectWorkers("layercake getOrCompute", r.layercakeGetOrCompute),
    effectWorkers("layercake get", r.layercakeGet)
  ]
}

export const runFanOut = (peers: Peers, options?: MeasureOptions) => measure(FANOUT_GROUP, fanOutCases(peers), options)
export const runWorkers = (peers: Peers, options?: MeasureOptions) =>
  measure(WORKERS_GROUP, workerCases(peers), options)
