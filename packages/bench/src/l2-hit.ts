/**
 * The L2 hit: a value in Redis, not in this process. Every case reads a
 * present key from one redis-server on loopback; sequentially (one read at a
 * time) and with 256 concurrent workers (256 async loops, or 256 fibers each
 * running an `Effect.gen` loop, in ONE program), each worker reading its own
 * keys (so that no case can answer two workers with one read of a shared key).
 *
 * Cases:
 * - raw ioredis `get` + `JSON.parse`: the baseline any Redis cache pays;
 * - the same with ioredis's `enableAutoPipelining` (commands of one tick
 *   written together): for reference, since layercake coalesces the reads of
 *   one tick too (into one script call);
 * - the same through `Effect.promise`: the floor of any Effect API over ioredis;
 * - `RedisTier.get`: one round trip (a Lua script that also checks the entry's
 *   tags), the envelope, the Schema decode;
 * - `Cache.get` over `CacheTier.stack(MemoryTier, RedisTier)` with a cold L1:
 *   the memory tier keeps one entry and the reads alternate between two keys, so
 *   each read misses L1, reads Redis and promotes into L1;
 * - bentocache 1.6 with only its Redis driver (L2), `get`.
 */
import { Cache, CacheTier } from "@layercake/core"
import { MemoryTier } from "@layercake/memory"
import { RedisConnection, RedisTier } from "@layercake/redis"
import { BentoCache, bentostore } from "bentocache"
import { redisDriver } from "bentocache/drivers/redis"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import { Redis } from "ioredis"
import {
  asyncCase,
  type Case,
  effectCase,
  genLoop,
  measure,
  type MeasureOptions,
  promiseWorkersCase
} from "./harness.js"
import { User, user } from "./peers.js"
import { startRedis } from "./redis-server.js"

export const SEQUENTIAL_GROUP = "L2 hit (Redis on loopback), sequential"
export const WORKERS_GROUP = "L2 hit (Redis on loopback), 256 concurrent workers"
export const BASELINE = "raw ioredis get + JSON.parse"
const AUTO_PIPELINED = "raw ioredis get + JSON.parse, enableAutoPipelining"
const WORKERS = 256
const READS_PER_WORKER = 64

export const run = async (options: MeasureOptions) => {
  const redis = await startRedis()
  const raw = new Redis(redis.url)
  const autoPipelined = new Redis(redis.url, { enableAutoPipelining: true })
  const scope = Effect.runSync(Scope.make())
  const bento = new BentoCache({
    default: "redis",
    stores: { redis: bentostore().useL2Layer(redisDriver({ connection: redisOptions(redis.url) })) }
  })
  try {
    const encoded = JSON.stringify({ ...user })
    await raw.set("raw:user", encoded)
    for (let w = 0; w < WORKERS; w++) await raw.set(`raw:user:${w}`, encoded)
    await bento.set({ key: "user", value: user, ttl: "1h" })
    const context = await Effect.runPromise(
      Layer.buildWithScope(
        Layer.mergeAll(
          RedisTier.layer({ keyPrefix: "bench-tier", name: "redis" }),
          Cache.layer({ namespace: "bench" }).pipe(
            Layer.provide(CacheTier.stack(MemoryTier.layer({ maxEntries: 1 }), RedisTier.layer({ keyPrefix: "bench" })))
          )
        ).pipe(Layer.provideMerge(RedisConnection.layer({ url: redis.url }))),
        scope
      )
    )
    const tier = Context.get(context, CacheTier.CacheTier)
    const cache = Context.get(context, Cache.Cache)
    const now = Date.now()
    await Effect.runPromise(
      tier.set("bench:user", {
        value: user,
        schema: User,
        createdAt: now,
        freshUntil: now + 3_600_000,
        staleUntil: now + 3_600_000,
        tags: [],
        negative: false
      })
    )
    await Effect.runPromise(Effect.all([cache.set("a", User, user), cache.set("b", User, user)]))
    const entry = {
      value: user,
      schema: User,
      createdAt: now,
      freshUntil: now + 3_600_000,
      staleUntil: now + 3_600_000
    }
    await Effect.runPromise(
      Effect.forEach(Array.from({ length: WORKERS }, (_, w) => w), (w) =>
        Effect.all([
          tier.set(`bench:user:${w}`, { ...entry, tags: [], negative: false }),
          cache.set(`a${w}`, User, user),
          cache.set(`b${w}`, User, user)
        ]))
    )
    for (let w = 0; w < WORKERS; w++) await bento.set({ key: `user:${w}`, value: user, ttl: "1h" })

    const rawGet = () => raw.get("raw:user").then((text) => JSON.parse(text!))
    const autoGet = () => autoPipelined.get("raw:user").then((text) => JSON.parse(text!))
    const effectFloor = Effect.promise(rawGet)
    const tierGet = tier.get("bench:user", User)
    // alternating keys with a one-entry L1: every read misses L1 and promotes from Redis
    const cacheGet = Effect.zipRight(cache.get("a", User), cache.get("b", User))
    const bentoGet = () => bento.get({ key: "user" })

    const sequential: Array<Case> = [
      asyncCase(BASELINE, rawGet),
      asyncCase(AUTO_PIPELINED, autoGet),
      effectCase("Effect.promise(raw get + JSON.parse) [gen]", (n) => genLoop(effectFloor, n)),
      effectCase("layercake RedisTier.get [gen]", (n) => genLoop(tierGet, n)),
      effectCase("layercake Cache.get, L1 miss + L2 hit + promotion [gen]", (n) => genLoop(cacheGet, n), 2),
      asyncCase("bentocache get (Redis L2 only)", bentoGet)
    ]
    const keys = Array.from({ length: WORKERS }, (_, w) => w)
    const workers = (read: (worker: number) => Effect.Effect<unknown, unknown>) => (n: number) =>
      Effect.forEach(keys, (w) => genLoop(read(w), n * READS_PER_WORKER), {
        concurrency: "unbounded",
        discard: true
      })
    const concurrent: Array<Case> = [
      promiseWorkersCase(BASELINE, WORKERS, (w) => raw.get(`raw:user:${w}`).then((text) => JSON.parse(text!))),
      promiseWorkersCase(
        AUTO_PIPELINED,
        WORKERS,
        (w) => autoPipelined.get(`raw:user:${w}`).then((text) => JSON.parse(text!))
      ),
      effectCase(
        "Effect.promise(raw get + JSON.parse) [256 fibers]",
        workers((w) => Effect.promise(() => raw.get(`raw:user:${w}`).then((text) => JSON.parse(text!)))),
        WORKERS * READS_PER_WORKER
      ),
      effectCase(
        "layercake RedisTier.get [256 fibers]",
        workers((w) => tier.get(`bench:user:${w}`, User)),
        WORKERS * READS_PER_WORKER
      ),
      effectCase(
        "layercake Cache.get, L1 miss + L2 hit + promotion [256 fibers]",
        workers((w) => Effect.zipRight(cache.get(`a${w}`, User), cache.get(`b${w}`, User))),
        2 * WORKERS * READS_PER_WORKER
      ),
      promiseWorkersCase("bentocache get (Redis L2 only)", WORKERS, (w) => bento.get({ key: `user:${w}` }))
    ]
    const sequentialResults = await measure(SEQUENTIAL_GROUP, sequential, options)
    const concurrentResults = await measure(WORKERS_GROUP, concurrent, options)
    const stats = await Effect.runPromise(cache.stats)
    if (stats.misses > 0 || stats.decodeFailures > 0 || stats.tierErrors > 0) {
      throw new Error(`the L2 bench read something other than L2 hits: ${JSON.stringify(stats)}`)
    }
    return { sequential: sequentialResults, concurrent: concurrentResults }
  } finally {
    await bento.disconnectAll()
    raw.disconnect()
    autoPipelined.disconnect()
    await Effect.runPromise(Scope.close(scope, Exit.void))
    await redis.stop()
  }
}

const redisOptions = (url: string) => {
  const parsed = new URL(url)
  return { host: parsed.hostname, port: Number(parsed.port) }
}
