/**
 * `pnpm demo`: layercake on its embedded default (memory L1 over a folder on
 * disk, `packages/examples/.cache/layercake-demo`), or with Redis as L2 when
 * REDIS_URL is set. Run it twice: the second run reads back a value the
 * first one wrote.
 */
import { Cache, CacheTier, InvalidationBus } from "@layercake/core"
import { MemoryTier } from "@layercake/memory"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import { demoDirectory, secondTier, usesRedis } from "./secondTier.js"

const User = Schema.Struct({ id: Schema.Number, name: Schema.String, since: Schema.Date })
/** What each run leaves for the next one. */
const LastRun = Schema.Struct({ run: Schema.Number, writtenAt: Schema.Date })

const millis = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6
const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    const start = process.hrtime.bigint()
    return Effect.map(effect, (value) => [value, millis(start)] as const)
  })
const show = <A>(option: Option.Option<A>) =>
  Option.match(option, { onNone: () => "none", onSome: (value) => `some(${JSON.stringify(value)})` })
const scene = (title: string) => Console.log(`\n── ${title} ${"─".repeat(Math.max(0, 70 - title.length))}`)

/** A pretend database: counts its queries, can be slow and can go down. */
const makeDatabase = Effect.gen(function*() {
  const queries = yield* Ref.make(0)
  const down = yield* Ref.make(false)
  const loadUser = (id: number, latency: Duration.DurationInput = "20 millis") =>
    Effect.gen(function*() {
      yield* Ref.update(queries, (n) => n + 1)
      yield* Effect.sleep(latency)
      if (yield* Ref.get(down)) return yield* Effect.fail(`database unreachable` as const)
      return { id, name: `user-${id}`, since: new Date(Date.UTC(2020, 0, id)) }
    })
  return { queries, down, loadUser }
})

const program = (nodeB: Cache.Cache) =>
  Effect.gen(function*() {
    const cache = yield* Cache.Cache
    const db = yield* makeDatabase
    const stats = yield* cache.stats
    yield* Console.log(`layercake demo: tiers ${stats.perTier.map((tier) => tier.name).join(" → ")}`)
    yield* Console.log(
      usesRedis
        ? "L2 is Redis (REDIS_URL is set)"
        : `L2 is the embedded default, a folder on disk: ${demoDirectory} (set REDIS_URL=redis://... to use Redis)`
    )

    yield* scene("a value written by the previous run")
    const lastRun = yield* cache.get("last-run", LastRun)
    const l2Hits = (yield* cache.stats).perTier.slice(1).map((tier) =>
      `${tier.name}: ${tier.hits} hit${tier.hits === 1 ? "" : "s"}`
    ).join(", ")
    yield* Option.match(lastRun, {
      onNone: () =>
        Console.log(`nothing yet: the first run (${l2Hits}); run \`pnpm demo\` again to read this run's value back`),
      onSome: (last) =>
        Console.log(
          `run #${last.run} left it ${((Date.now() - last.writtenAt.getTime()) / 1000).toFixed(1)} s ago; ` +
            `read back from ${usesRedis ? "Redis" : "disk"} (memory L1 was empty; ${l2Hits})`
        )
    })
    const thisRun = Option.match(lastRun, { onNone: () => 1, onSome: (last) => last.run + 1 })
    yield* cache.clear

    yield* scene("1000 concurrent callers, one compute")
    yield* Ref.set(db.queries, 0)
    const [users] = yield* timed(
      Effect.all(Array.from({ length: 1000 }, () => cache.getOrCompute("user:1", User, db.loadUser(1))), {
        concurrency: "unbounded"
      })
    )
    yield* Console.log(`${users.length} callers got ${users[0].name}; database queries: ${yield* Ref.get(db.queries)}`)

    yield* scene("an L1 hit vs a compute")
    const [, computeMs] = yield* timed(cache.getOrCompute("user:2", User, db.loadUser(2)))
    const rounds = 100_000
    const loadUser2 = db.loadUser(2)
    const hits = Effect.gen(function*() {
      for (let i = 0; i < rounds; i++) yield* cache.getOrCompute("user:2", User, loadUser2)
    })
    yield* hits // warm-up: let the JIT compile the hit path before timing it
    const [, hitsMs] = yield* timed(hits)
    yield* Console.log(`compute (20 ms query): ${computeMs.toFixed(2)} ms`)
    yield* Console.log(
      `L1 hit: ${((hitsMs * 1e6) / rounds).toFixed(0)} ns (mean of ${rounds}, after as many to warm up)`
    )

    yield* scene("promotion from L2 keeps the remaining lifetime")
    yield* cache.set("user:3", User, { id: 3, name: "user-3", since: new Date(Date.UTC(2021, 5, 1)) }, {
      ttl: "2 seconds"
    })
    yield* Effect.sleep("500 millis")
    const [promoted, promotedMs] = yield* timed(nodeB.getOrCompute("user:3", User, db.loadUser(3)))
    const tiers = (yield* nodeB.stats).perTier.map((tier) => `${tier.name}: ${tier.hits} hits`).join(", ")
    yield* Console.log(`node B (cold L1) read ${promoted.name} from L2 in ${promotedMs.toFixed(2)} ms (${tiers})`)
    yield* Console.log(`the Date survived the encoded tier: ${promoted.since.toISOString()}`)
    yield* Effect.sleep("1600 millis")
    yield* Console.log(`2.1 s after the write node B's copy is gone too: ${show(yield* nodeB.get("user:3", User))}`)

    yield* scene("TTL expiry")
    yield* cache.set("greeting", Schema.String, "hello", { ttl: "300 millis" })
    yield* Console.log(`at once: ${show(yield* cache.get("greeting", Schema.String))}`)
    yield* Effect.sleep("350 millis")
    yield* Console.log(`after 350 ms: ${show(yield* cache.get("greeting", Schema.String))}`)

    yield* scene("tag invalidation")
    yield* cache.set("post:1", Schema.String, "first post", { tags: ["author:7"] })
    yield* cache.set("post:2", Schema.String, "second post", { tags: ["author:7"] })
    yield* cache.set("post:3", Schema.String, "other author", { tags: ["author:8"] })
    yield* cache.invalidateTags(["author:7"])
    for (const key of ["post:1", "post:2", "post:3"]) {
      yield* Console.log(`${key}: ${show(yield* cache.get(key, Schema.String))}`)
    }

    yield* scene("refresh-ahead: served at once, refreshed behind the caller")
    const ahead: Cache.EntryOptions = { ttl: "1 second", refreshAfter: "200 millis" }
    yield* cache.getOrCompute("user:4", User, db.loadUser(4), ahead)
    yield* Effect.sleep("250 millis")
    const [, staleMs] = yield* timed(cache.getOrCompute("user:4", User, db.loadUser(4, "100 millis"), ahead))
    yield* Console.log(`read after refreshAfter answered in ${staleMs.toFixed(2)} ms (the refresh takes 100 ms)`)
    yield* Effect.sleep("150 millis")
    yield* Console.log(
      `refreshes started: ${(yield* cache.stats).refreshes}, succeeded: ${(yield* cache.stats).refreshSuccesses}`
    )

    yield* scene("the source is down: stale served")
    const failSafe: Cache.EntryOptions = { ttl: "200 millis", staleIfError: "1 hour", staleIfErrorRetry: "1 second" }
    yield* cache.getOrCompute("user:5", User, db.loadUser(5), failSafe)
    yield* Ref.set(db.down, true)
    yield* Effect.sleep("250 millis")
    yield* Ref.set(db.queries, 0)
    for (let i = 0; i < 5; i++) {
      const user = yield* cache.getOrCompute("user:5", User, db.loadUser(5), failSafe)
      yield* Console.log(`request ${i + 1} while the database is down: ${user.name}`)
    }
    yield* Console.log(
      `database attempts during those 5 requests: ${yield* Ref.get(db.queries)} (retry throttled to 1/s)`
    )
    yield* Ref.set(db.down, false)

    yield* scene("two instances stay coherent (a bus between them)")
    yield* Console.log(
      usesRedis
        ? "nodes A and B: each its own memory L1, Redis as their shared L2, an in-process bus"
        : "nodes A and B: each its own memory L1, the disk folder as their shared L2, an in-process bus"
    )
    yield* cache.set("user:6", User, { id: 6, name: "before", since: new Date(Date.UTC(2022, 0, 1)) })
    yield* Console.log(
      `node B reads (and keeps in its L1): ${(yield* nodeB.getOrCompute("user:6", User, db.loadUser(6))).name}`
    )
    yield* cache.set("user:6", User, { id: 6, name: "after", since: new Date(Date.UTC(2022, 0, 1)) })
    const [, seenAfter] = yield* timed(Effect.gen(function*() {
      while ((yield* nodeB.getOrCompute("user:6", User, db.loadUser(6))).name !== "after") {
        yield* Effect.sleep("1 millis")
      }
    }))
    yield* Console.log(`after a set on node A, node B reads "after" within ${seenAfter.toFixed(2)} ms`)
    yield* Console.log(
      usesRedis
        ? "next: two processes over Redis (RedisBus, RedisLock)"
        : "with REDIS_URL set, the demo also runs two processes over Redis (RedisBus, RedisLock)"
    )

    yield* scene("a value for the next run")
    // written last: `clear` above hides entries created at or before it, to the millisecond
    yield* cache.set("last-run", LastRun, { run: thisRun, writtenAt: new Date() }, { ttl: "1 day" })
    yield* Console.log(
      `run #${thisRun} wrote "last-run"; ${
        usesRedis ? "it stays in Redis" : "it stays on disk"
      } for a day: the next \`pnpm demo\` reads it back`
    )

    yield* scene("stats")
    const final = yield* cache.stats
    const { fleet: _fleet, perTier, ...counters } = final
    yield* Console.log(
      Object.entries(counters).filter(([, value]) => value !== 0).map(([name, value]) => `${name}=${value}`).join("  ")
    )
    yield* Console.log(
      perTier.map((tier) => `${tier.name}: hits=${tier.hits} misses=${tier.misses} errors=${tier.errors}`).join("\n")
    )
  })

/** One node of a fleet: its own memory L1 over the shared L2, and the bus between the nodes. */
const node = (l2: Layer.Layer<CacheTier.CacheTier>, bus: Layer.Layer<InvalidationBus.InvalidationBus>) =>
  Cache.layer({ namespace: "demo" }).pipe(
    Layer.provide(CacheTier.stack(MemoryTier.layer({ maxEntries: 10_000, name: "memory" }), l2)),
    Layer.provide(bus)
  )

Effect.gen(function*() {
  const l2 = Layer.succeedContext(yield* Layer.build(secondTier))
  const bus = Layer.succeedContext(yield* Layer.build(InvalidationBus.layerMemory))
  const nodeB = yield* Effect.map(Layer.build(node(l2, bus)), (context) => Context.get(context, Cache.Cache))
  yield* program(nodeB).pipe(Effect.provide(node(l2, bus)))
}).pipe(
  Effect.scoped,
  Logger.withMinimumLogLevel(LogLevel.Error),
  Effect.runPromise
).then(
  // with Redis, the fleet scene: two processes (fleet.ts runs when imported)
  () => (usesRedis ? import("./fleet.js") : undefined),
  (error) => {
    console.error(error)
    process.exit(1)
  }
).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
