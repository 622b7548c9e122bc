/**
 * The code of docs/testing.md. Runs with `npx vitest run --project examples`.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Cache, CacheTier, InvalidationBus } from "@layercake/core"
import { FaultyTier, SharedTier, TestHelpers } from "@layercake/core/testing"
import { MemoryTier } from "@layercake/memory"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"

// --- The code under test: a repository that caches through layercake -------------

const User = Schema.Struct({ id: Schema.Number, name: Schema.String })

class Database extends Context.Tag("Database")<Database, {
  readonly loadUser: (id: number) => Effect.Effect<typeof User.Type, "DatabaseDown">
}>() {}

const getUser = (id: number) =>
  Effect.flatMap(Database, (db) =>
    Cache.getOrCompute(`user:${id}`, User, db.loadUser(id), {
      ttl: "1 minute",
      refreshAfter: "50 seconds",
      staleIfError: "1 hour"
    }))

/** A database that counts its queries, answers "v1", "v2", ... and fails while `down` is set. */
const makeDatabase = () => {
  const queries = Ref.unsafeMake(0)
  const down = Ref.unsafeMake(false)
  const layer = Layer.succeed(Database, {
    loadUser: (id) =>
      Effect.gen(function*() {
        const n = yield* Ref.updateAndGet(queries, (n) => n + 1)
        if (yield* Ref.get(down)) return yield* Effect.fail("DatabaseDown" as const)
        return { id, name: `v${n}` }
      })
  })
  return { queries, down, layer }
}

const CacheTest = Cache.layer({ namespace: "test" }).pipe(Layer.provide(MemoryTier.layer()))

const { settled, waitFor } = TestHelpers

// --- One cache per test --------------------------------------------------------------

describe("getUser", () => {
  it.effect("queries once, then serves the cache until the ttl", () => {
    const db = makeDatabase()
    return Effect.gen(function*() {
      assert.deepStrictEqual(yield* getUser(1), { id: 1, name: "v1" })
      yield* TestClock.adjust("49 seconds")
      assert.deepStrictEqual(yield* getUser(1), { id: 1, name: "v1" })
      assert.strictEqual(yield* Ref.get(db.queries), 1)
    }).pipe(Effect.provide(Layer.merge(CacheTest, db.layer)))
  })

  it.effect("after refreshAfter: the cached value at once, then the refreshed one", () => {
    const db = makeDatabase()
    return Effect.gen(function*() {
      yield* getUser(1)
      yield* TestClock.adjust("50 seconds")
      assert.strictEqual((yield* getUser(1)).name, "v1") // starts a background refresh
      yield* settled // wait for it before asserting
      assert.strictEqual((yield* getUser(1)).name, "v2")
      assert.strictEqual((yield* Cache.stats).refreshes, 1)
    }).pipe(Effect.provide(Layer.merge(CacheTest, db.layer)))
  })

  it.effect("while the database is down: the stale value, within staleIfError", () => {
    const db = makeDatabase()
    return Effect.gen(function*() {
      yield* getUser(1)
      yield* Ref.set(db.down, true)
      yield* TestClock.adjust("2 minutes")
      assert.strictEqual((yield* getUser(1)).name, "v1")
      assert.strictEqual((yield* Cache.stats).staleIfErrorServed, 1)
    }).pipe(Effect.provide(Layer.merge(CacheTest, db.layer)))
  })
})

// --- Forked callers and timeouts -----------------------------------------------------

describe("timeouts", () => {
  it.effect("a caller gives up after hardTimeout", () =>
    Effect.gen(function*() {
      const slow = Effect.as(Effect.sleep("10 seconds"), "late")
      const caller = yield* Effect.fork(Cache.getOrCompute("k", Schema.String, slow, { hardTimeout: "2 seconds" }))
      yield* waitFor(Cache.stats, (stats) => stats.computes === 1) // the compute has started
      yield* TestClock.adjust("2 seconds")
      const exit = yield* Fiber.await(caller)
      assert.isTrue(Exit.isFailure(exit))
      assert.strictEqual((yield* Cache.stats).hardTimeouts, 1)
    }).pipe(Effect.provide(CacheTest)))
})

// --- One cache and one clock for a whole block -----------------------------------------

layer(CacheTest)("a block sharing one cache", (it) => {
  it.effect("writes", () => Cache.set("shared-key", Schema.String, "from the first test"))

  it.effect("sees what the previous test wrote, and the clock it left", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* Cache.get("shared-key", Schema.String), Option.some("from the first test"))
      yield* TestClock.adjust("1 minute")
    }))

  it.effect("time has moved on", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* Clock.currentTimeMillis, 60_000)
      assert.deepStrictEqual(yield* Cache.get("shared-key", Schema.String), Option.some("from the first test"))
    }))
})

// --- A fleet in one process ---------------------------------------------------------------

/** Builds a Cache layer and returns the service, so that a test can hold several. */
const build = <E, R>(layer: Layer.Layer<Cache.Cache, E, R>) => Effect.map(Layer.build(layer), Context.get(Cache.Cache))

describe("two instances", () => {
  it.scoped("a write on one instance drops the other's local copy", () =>
    Effect.gen(function*() {
      const shared = yield* Layer.build(SharedTier.layer()) // built once: one store for both
      const bus = yield* Layer.build(InvalidationBus.layerMemory) // built once: one bus for both
      const instance = Cache.layer({ namespace: "app" }).pipe(
        Layer.provide(CacheTier.stack(MemoryTier.layer(), Layer.succeedContext(shared))),
        Layer.provide(Layer.succeedContext(bus))
      )
      const a = yield* build(instance)
      const b = yield* build(instance)

      yield* a.set("k", Schema.String, "v1")
      assert.deepStrictEqual(yield* b.get("k", Schema.String), Option.some("v1")) // b's memory tier keeps a copy
      yield* a.set("k", Schema.String, "v2")
      yield* waitFor(b.get("k", Schema.String), Option.contains("v2")) // the bus message arrives
    }))
})

// --- Failing and stalling tiers ------------------------------------------------------------

describe("a failing shared tier", () => {
  const faultyCache = (faults: FaultyTier.Faults) =>
    Cache.layer({ namespace: "app" }).pipe(
      Layer.provide(CacheTier.stack(MemoryTier.layer(), FaultyTier.layer(faults, SharedTier.layer())))
    )

  it.scoped("never fails a read: the cache computes, logs and counts", () =>
    Effect.gen(function*() {
      const faults = FaultyTier.makeFaults()
      const cache = yield* build(faultyCache(faults))
      faults.fail("Unavailable") // every operation of the shared tier fails from now on
      assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, Effect.succeed("computed")), "computed")
      const stats = yield* cache.stats
      assert.isTrue(stats.tierErrors > 0)
      assert.isTrue(faults.calls.get > 0)
      faults.heal()
    }))

  it.scoped("a stalled tier is driven by the TestClock", () =>
    Effect.gen(function*() {
      const faults = FaultyTier.makeFaults()
      const cache = yield* build(faultyCache(faults))
      faults.stall("2 seconds") // every operation sleeps first, by the Clock
      const reader = yield* Effect.fork(cache.get("k", Schema.String))
      yield* waitFor(Effect.sync(() => faults.calls.get), (calls) => calls === 1) // the reader reached the tier
      assert.isNull(reader.unsafePoll()) // still waiting
      yield* TestClock.adjust("2 seconds")
      assert.deepStrictEqual(yield* Fiber.join(reader), Option.none())
    }))
})
