/**
 * The races that left old values in Redis (LESSONS.md, "Found in layercake
 * itself"), as regression tests: after the operation is acknowledged and
 * Redis is healthy, no instance serves the old value. `fresh` reads Redis
 * alone, through a cache with no local tier, to show the shared tier itself.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cache, CacheTier } from "@layercake/core"
import { MemoryTier } from "@layercake/memory"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { Redis } from "ioredis"
import { RedisBus, RedisConnection, RedisLock, RedisTier } from "../src/index.js"
import { startRedis } from "./harness/redisServer.js"
import { buildCache, buildTier, cluster, entry, eventually, standalone, unique } from "./utils.js"

const Value = Schema.Struct({ version: Schema.Number })
type Value = typeof Value.Type

const instance = (
  keyPrefix: string,
  options: { bus?: boolean; lock?: RedisLock.Options; tier?: RedisTier.Options } = {}
) => {
  const tiers = CacheTier.stack(MemoryTier.layer(), RedisTier.layer({ keyPrefix, ...options.tier }))
  const plain = Cache.layer({ namespace: "race" }).pipe(Layer.provide(tiers))
  const cache = options.lock === undefined
    ? plain
    : plain.pipe(Layer.provide(RedisLock.layer({ keyPrefix, ...options.lock })))
  return Effect.map(
    Layer.build(options.bus === true ? cache.pipe(Layer.provide(RedisBus.layer({ keyPrefix }))) : cache),
    Context.get(Cache.Cache)
  )
}

const versionOf = (cache: Cache.Cache, key: string) =>
  Effect.map(cache.get(key, Value), Option.match({ onNone: () => undefined, onSome: (value) => value.version }))

/**
 * A compute on `a` that reads the truth (version 1), then waits while `during`
 * runs on another instance, then returns: the old result arrives after the operation.
 */
const overtaken = (
  a: Cache.Cache,
  key: string,
  during: Effect.Effect<void, unknown>,
  options?: Cache.EntryOptions<Value>
) =>
  Effect.gen(function*() {
    const started = yield* Deferred.make<void>()
    const go = yield* Deferred.make<void>()
    const compute = Effect.zipRight(Deferred.succeed(started, undefined), Effect.as(Deferred.await(go), { version: 1 }))
    const fiber = yield* Effect.fork(a.getOrCompute(key, Value, compute, options))
    yield* Deferred.await(started)
    yield* during
    yield* Deferred.succeed(go, undefined)
    return yield* Fiber.join(fiber)
  })

const quiet = Logger.withMinimumLogLevel(LogLevel.Error)

describe("coherence under races (real Redis)", () => {
  for (const [label, connection] of [["standalone", standalone], ["cluster", cluster]] as const) {
    it.scopedLive(`${label}: a compute in flight during another instance's invalidate never lands in Redis (50 runs)`, () =>
      Effect.gen(function*() {
        const prefix = unique("race-key")
        const a = yield* instance(prefix)
        const b = yield* instance(prefix)
        const fresh = yield* buildCache({ namespace: "race" }, RedisTier.layer({ keyPrefix: prefix }))
        let stale = 0
        for (let run = 0; run < 50; run++) {
          const key = `k${run}`
          yield* overtaken(a, key, b.invalidate(key))
          if ((yield* versionOf(fresh, key)) !== undefined) stale++
        }
        assert.strictEqual(stale, 0, "old results written to Redis after the invalidation")
      }).pipe(Effect.provide(connection())))
  }

  it.scopedLive("a compute in flight during a set, a tag invalidation or a clear never lands either", () =>
    Effect.gen(function*() {
      const prefix = unique("race-kinds")
      const a = yield* instance(prefix)
      const b = yield* instance(prefix)
      const fresh = yield* buildCache({ namespace: "race" }, RedisTier.layer({ keyPrefix: prefix }))
      yield* overtaken(a, "set", b.set("set", Value, { version: 2 }))
      assert.strictEqual(yield* versionOf(fresh, "set"), 2)
      yield* overtaken(a, "tagged", b.invalidateTags(["t"]), { tags: ["t"] })
      assert.strictEqual(yield* versionOf(fresh, "tagged"), undefined)
      yield* overtaken(a, "cleared", b.clear)
      assert.strictEqual(yield* versionOf(fresh, "cleared"), undefined)
      // a compute that starts after the invalidation is stored as usual
      yield* b.getOrCompute("tagged", Value, Effect.succeed({ version: 3 }), { tags: ["t"] })
      assert.strictEqual(yield* versionOf(fresh, "tagged"), 3)
    }).pipe(Effect.provide(standalone())))

  it.scopedLive("with the bus, the instance that computed drops its own old copy too", () =>
    Effect.gen(function*() {
      const prefix = unique("race-bus")
      const a = yield* instance(prefix, { bus: true })
      const b = yield* instance(prefix, { bus: true })
      for (let run = 0; run < 20; run++) {
        const key = `k${run}`
        yield* overtaken(a, key, b.invalidate(key))
        yield* eventually(Effect.map(versionOf(a, key), (version) => version === undefined))
        assert.strictEqual(yield* versionOf(b, key), undefined)
      }
    }).pipe(Effect.provide(standalone())))

  it.scopedLive("an invalidation refused by an OOM Redis is retried; nobody serves the old value once it lands", () =>
    Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(
        Effect.promise(() => startRedis({ args: ["--maxmemory-policy", "noeviction"] })),
        (server) => Effect.promise(() => server.stop())
      )
      const admin = yield* Effect.acquireRelease(
        Effect.sync(() => new Redis(server.url)),
        (client) => Effect.promise(() => client.quit())
      )
      const connection = RedisConnection.layer({ url: server.url })
      yield* Effect.gen(function*() {
        const prefix = unique("oom")
        const a = yield* instance(prefix, { bus: true })
        const b = yield* instance(prefix, { bus: true })
        const late = yield* buildCache({ namespace: "race" }, RedisTier.layer({ keyPrefix: prefix }))
        yield* a.set("j", Value, { version: 1 }, { tags: ["t"] })
        assert.strictEqual(yield* versionOf(b, "j"), 1)
        // Redis now refuses every write that needs memory
        yield* Effect.promise(() => admin.config("SET", "maxmemory", "1"))
        yield* a.invalidateTags(["t"])
        assert.isAbove((yield* a.stats).fleet.suspect, 0)
        assert.strictEqual(yield* versionOf(a, "j"), undefined, "a does not read the old value while it is suspect")
        yield* Effect.promise(() => admin.config("SET", "maxmemory", "0"))
        yield* eventually(Effect.map(a.stats, (stats) => stats.fleet.suspect === 0), 10)
        yield* eventually(Effect.map(versionOf(b, "j"), (version) => version === undefined))
        assert.strictEqual(yield* versionOf(late, "j"), undefined)
        assert.isAbove((yield* a.stats).invalidationRetries, 0)
      }).pipe(Effect.provide(connection), quiet)
    }))

  it.scopedLive("a set while the breaker is open (Redis healthy) does not leave the old value in Redis", () =>
    Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(
        Effect.promise(() => startRedis()),
        (server) => Effect.promise(() => server.stop())
      )
      const connection = RedisConnection.layer({ url: server.url })
      yield* Effect.gen(function*() {
        const prefix = unique("breaker")
        const tier: RedisTier.Options = {
          operationTimeout: "100 millis",
          circuitBreaker: { failureThreshold: 1, openFor: "300 millis" }
        }
        const a = yield* instance(prefix, { tier })
        const other = yield* buildCache({ namespace: "race" }, RedisTier.layer({ keyPrefix: prefix }))
        yield* a.set("j", Value, { version: 1 })
        // one timed-out call opens a's breaker; Redis answers again at once
        server.pause()
        yield* a.get("missing", Value)
        server.resume()
        yield* a.set("j", Value, { version: 2 })
        assert.strictEqual(yield* versionOf(a, "j"), 2)
        yield* eventually(Effect.map(versionOf(other, "j"), (version) => version !== 1))
        // the retried delete lands in Redis before `a` reads its reply and clears the mark: wait for that too
        yield* eventually(Effect.map(a.stats, (stats) => stats.fleet.suspect === 0))
      }).pipe(Effect.provide(connection), quiet)
    }))

  it.scopedLive("RedisLock: instances that miss one cold key together compute it once; a lost holder is waited out", () =>
    Effect.gen(function*() {
      const prefix = unique("lock")
      const caches = yield* Effect.all(
        Array.from({ length: 4 }, () => instance(prefix, { lock: { lease: "300 millis" } }))
      )
      let computes = 0
      const compute = Effect.sync(() => ++computes).pipe(
        Effect.zipRight(Effect.sleep("100 millis")),
        Effect.as({ version: 1 })
      )
      const answers = yield* Effect.all(
        caches.flatMap((cache) => Array.from({ length: 25 }, () => cache.getOrCompute("cold", Value, compute))),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(answers.length, 100)
      assert.strictEqual(computes, 1)
      const stats = yield* Effect.all(caches.map((cache) => cache.stats))
      assert.strictEqual(stats.reduce((sum, s) => sum + s.lockAcquired, 0), 1)
      assert.strictEqual(stats.reduce((sum, s) => sum + s.lockWaits, 0), 3)
      // a holder that never writes (crashed): its lease expires and a waiter computes
      const redis = (yield* RedisConnection.RedisConnection).client
      yield* Effect.promise(() => redis.set(`${prefix}:~lock:race:orphan`, "someone", "PX", 300))
      const [ms, value] = yield* Effect.timed(caches[0].getOrCompute("orphan", Value, Effect.succeed({ version: 7 })))
      assert.strictEqual(value.version, 7)
      assert.isAtMost(Duration.toMillis(ms), 2 * 600 + 500) // bounded by the wait timeout (2 × lease)
    }).pipe(Effect.provide(standalone())))

  it.scopedLive("an older compute never overwrites a newer one's value (a lease holder paused past its lease)", () =>
    Effect.gen(function*() {
      const tier = yield* buildTier({ keyPrefix: unique("older") })
      const paused = yield* tier.fence!("ns:k") // the first holder starts, then stalls
      const takeover = yield* tier.fence!("ns:k") // its lease expired; another instance computes
      const now = yield* Clock.currentTimeMillis
      yield* tier.set("ns:k", { ...entry(2, Schema.Number, now), fences: { redis: takeover } })
      yield* tier.set("ns:k", { ...entry(1, Schema.Number, now), fences: { redis: paused } }) // the stalled one wakes up
      const read = yield* tier.get("ns:k", Schema.Number)
      assert.strictEqual(read !== undefined && "value" in read ? read.value : undefined, 2)
      // and a compute that starts later still lands
      const later = yield* tier.fence!("ns:k")
      yield* tier.set("ns:k", { ...entry(3, Schema.Number, now), fences: { redis: later } })
      const again = yield* tier.get("ns:k", Schema.Number)
      assert.strictEqual(again !== undefined && "value" in again ? again.value : undefined, 3)
    }).pipe(Effect.provide(standalone())))
})
