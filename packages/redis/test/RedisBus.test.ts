import { assert, describe, it } from "@effect/vitest"
import { Cache, CacheTier } from "@layercake/core"
import { MemoryTier } from "@layercake/memory"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schema from "effect/Schema"
import type { Redis } from "ioredis"
import { RedisBus, RedisConnection, RedisTier } from "../src/index.js"
import { buildCache, client, cluster, recordCommands, standalone, unique } from "./utils.js"

const Value = Schema.Struct({ id: Schema.String, version: Schema.Number })

/** One instance of a fleet: memory over Redis, with its own bus, on the shared connection. */
const instance = (keyPrefix: string, bus: RedisBus.Options = {}) =>
  Effect.map(
    Layer.build(
      Cache.layer({ namespace: "bus" }).pipe(
        Layer.provide(CacheTier.stack(MemoryTier.layer(), RedisTier.layer({ keyPrefix }))),
        Layer.provide(RedisBus.layer({ keyPrefix, healthCheckInterval: "100 millis", ...bus }))
      )
    ),
    Context.get(Cache.Cache)
  )

/** Polls `read` until `done` holds, failing after `millis`: convergence over real processes' time. */
const eventually = <A>(read: Effect.Effect<A>, done: (a: A) => boolean, millis = 3_000) =>
  Effect.gen(function*() {
    const start = Date.now()
    for (;;) {
      const value = yield* read
      if (done(value)) return Date.now() - start
      if (Date.now() - start > millis) return assert.fail(`not converged within ${millis} ms: ${JSON.stringify(value)}`)
      yield* Effect.sleep("5 millis")
    }
  })

const versionOf = (cache: Cache.Cache, key: string) =>
  Effect.map(cache.get(key, Value), Option.match({ onNone: () => -1, onSome: (value) => value.version }))

const killSubscribers = Effect.flatMap(
  client,
  (redis) => Effect.promise(() => (redis as Redis).call("CLIENT", "KILL", "TYPE", "pubsub"))
)

describe("RedisBus", () => {
  it.scopedLive("a set on one instance replaces the copy in another's memory tier", () =>
    Effect.gen(function*() {
      const prefix = unique("bus-set")
      const a = yield* instance(prefix)
      const b = yield* instance(prefix)
      yield* a.set("k", Value, { id: "k", version: 1 })
      assert.strictEqual(yield* versionOf(b, "k"), 1) // now in b's memory tier
      yield* a.set("k", Value, { id: "k", version: 2 })
      yield* eventually(versionOf(b, "k"), (version) => version === 2)
    }).pipe(Effect.provide(standalone())))

  it.scopedLive("invalidate, invalidateTags and clear reach the other instance's memory tier", () =>
    Effect.gen(function*() {
      const prefix = unique("bus-kinds")
      const a = yield* instance(prefix)
      const b = yield* instance(prefix)
      const compute = (version: number) => Effect.succeed({ id: "x", version })
      yield* b.getOrCompute("k1", Value, compute(1))
      yield* b.getOrCompute("k2", Value, compute(1), { tags: ["t"] })
      yield* b.getOrCompute("k3", Value, compute(1))
      yield* a.invalidate("k1")
      yield* a.invalidateTags(["t"])
      yield* eventually(versionOf(b, "k1"), (version) => version === -1)
      yield* eventually(versionOf(b, "k2"), (version) => version === -1)
      assert.strictEqual(yield* versionOf(b, "k3"), 1)
      yield* a.clear
      yield* eventually(versionOf(b, "k3"), (version) => version === -1)
    }).pipe(Effect.provide(standalone())))

  it.scopedLive("messages missed while the subscriber was killed are replayed from the stream", () =>
    Effect.gen(function*() {
      const prefix = unique("bus-kill")
      const a = yield* instance(prefix)
      const b = yield* instance(prefix)
      for (let key = 0; key < 20; key++) {
        yield* b.getOrCompute(`k${key}`, Value, Effect.succeed({ id: "k", version: 0 }))
      }
      for (let round = 1; round <= 5; round++) {
        yield* killSubscribers
        for (let key = 0; key < 20; key++) yield* a.set(`k${key}`, Value, { id: "k", version: round })
      }
      for (let key = 0; key < 20; key++) yield* eventually(versionOf(b, `k${key}`), (version) => version === 5)
      const health = (yield* b.stats).fleet.bus!
      assert.isAbove(health.gaps, 0)
      assert.isAbove(health.replayed, 0)
      assert.strictEqual(health.dropped, 0)
    }).pipe(Effect.provide(standalone())))

  it.scopedLive("a gap longer than the stream keeps drops the local entries of the namespace", () =>
    Effect.gen(function*() {
      const prefix = unique("bus-trim")
      const a = yield* instance(prefix)
      const b = yield* instance(prefix, { healthCheckInterval: "50 millis" })
      const redis = (yield* client) as Redis
      yield* b.getOrCompute("other", Value, Effect.succeed({ id: "o", version: 0 }))
      yield* a.invalidate("unrelated")
      yield* eventually(Effect.map(b.stats, (stats) => stats.fleet.bus!.connected), (connected) => connected)
      // two messages whose delivery was lost and that the stream no longer holds: see below
      // a write b is not told of: only a drop of b's memory tier lets b see it
      const silent = yield* buildCache({ namespace: "bus" }, RedisTier.layer({ keyPrefix: prefix }))
      yield* silent.set("other", Value, { id: "o", version: 9 })
      assert.strictEqual(yield* versionOf(b, "other"), 0)
      yield* Effect.promise(() => redis.incrby(`{${prefix}~bus:bus}:seq`, 2))
      yield* eventually(versionOf(b, "other"), (version) => version === 9)
      const stats = yield* b.stats
      assert.isAbove(stats.fleet.bus!.dropped, 0)
      assert.isAbove(stats.gapsApplied, 0)
    }).pipe(Effect.provide(standalone())))

  it.scopedLive("a reset sequence (Redis lost its data) is a gap", () =>
    Effect.gen(function*() {
      const prefix = unique("bus-reset")
      const a = yield* instance(prefix)
      const b = yield* instance(prefix, { healthCheckInterval: "50 millis" })
      const redis = (yield* client) as Redis
      yield* b.getOrCompute("kept", Value, Effect.succeed({ id: "k", version: 0 }))
      yield* a.invalidate("x")
      yield* a.invalidate("y")
      yield* eventually(Effect.map(b.stats, (stats) => stats.fleet.bus!.gaps), () => true)
      const silent = yield* buildCache({ namespace: "bus" }, RedisTier.layer({ keyPrefix: prefix }))
      yield* silent.set("kept", Value, { id: "k", version: 9 })
      yield* Effect.promise(() => redis.del(`{${prefix}~bus:bus}:seq`, `{${prefix}~bus:bus}:stream`))
      yield* eventually(versionOf(b, "kept"), (version) => version === 9)
      assert.isAbove((yield* b.stats).fleet.bus!.dropped, 0)
    }).pipe(Effect.provide(standalone())))

  it.scopedLive("set with peers: \"refresh\" makes the other instance read the new value at once, in the background", () =>
    Effect.gen(function*() {
      const prefix = unique("bus-refresh")
      const a = yield* instance(prefix)
      const b = yield* instance(prefix)
      yield* a.set("k", Value, { id: "k", version: 1 })
      assert.strictEqual(yield* versionOf(b, "k"), 1) // b read it once: its schema is known
      const redisHits = (stats: Cache.Stats) => stats.perTier[1].hits
      const before = redisHits(yield* b.stats)
      yield* a.set("k", Value, { id: "k", version: 2 }, { peers: "refresh" })
      // b reads Redis by itself, without any caller
      yield* eventually(Effect.map(b.stats, redisHits), (hits) => hits === before + 1)
      const memoryHits = (yield* b.stats).perTier[0].hits
      assert.strictEqual(yield* versionOf(b, "k"), 2)
      const after = yield* b.stats
      assert.strictEqual(after.perTier[0].hits, memoryHits + 1, "the next read is a memory hit")
      assert.strictEqual(redisHits(after), before + 1)
    }).pipe(Effect.provide(standalone())))

  it.scopedLive("with a bus, an L2 read is a plain MGET and tags are checked against times kept in the process", () =>
    Effect.gen(function*() {
      const prefix = unique("bus-tags")
      // Redis alone under each cache, so that every read goes to Redis
      const redisOnly = () =>
        Effect.map(
          Layer.build(
            Cache.layer({ namespace: "bus" }).pipe(
              Layer.provide(RedisTier.layer({ keyPrefix: prefix })),
              Layer.provide(RedisBus.layer({ keyPrefix: prefix }))
            )
          ),
          Context.get(Cache.Cache)
        )
      const a = yield* redisOnly()
      const b = yield* redisOnly()
      yield* a.set("k1", Value, { id: "k1", version: 1 }, { tags: ["t"] })
      yield* a.set("k2", Value, { id: "k2", version: 1 }, { tags: ["t"] })
      const recorder = recordCommands(yield* client)
      yield* Effect.addFinalizer(() => Effect.sync(recorder.restore))
      assert.strictEqual(yield* versionOf(b, "k1"), 1)
      assert.deepStrictEqual(recorder.names, ["mget", "mget"]) // the value, then the tag's time (first use)
      recorder.reset()
      assert.strictEqual(yield* versionOf(b, "k2"), 1)
      assert.deepStrictEqual(recorder.names, ["mget"]) // the tag's time is kept
      recorder.reset()
      yield* a.invalidateTags(["t"])
      yield* eventually(versionOf(b, "k2"), (version) => version === -1)
      assert.strictEqual(yield* versionOf(b, "k1"), -1)
      // a compute after the invalidation is readable again
      yield* a.set("k1", Value, { id: "k1", version: 2 }, { tags: ["t"] })
      yield* eventually(versionOf(b, "k1"), (version) => version === 2)
    }).pipe(Effect.provide(standalone())))

  it.scopedLive("the bus itself: subscribeTo gets its namespace's messages, subscribe those of every namespace joined", () =>
    Effect.gen(function*() {
      const prefix = unique("bus-raw")
      const sender = yield* RedisBus.make({ keyPrefix: prefix })
      const receiver = yield* RedisBus.make({ keyPrefix: prefix })
      const all = yield* receiver.subscribe
      const one = yield* receiver.subscribeTo!("one")
      const message = { _tag: "KeysInvalidated", sender: "s", namespace: "one", keys: ["k"] } as const
      yield* sender.publish(message)
      assert.deepStrictEqual(yield* Queue.take(one), message)
      assert.deepStrictEqual(yield* Queue.take(all), message)
      const health = yield* receiver.health!
      assert.isTrue(health.connected)
      assert.strictEqual(health.gaps, 0)
    }).pipe(Effect.provide(standalone())))

  it.scopedLive("a restarted sequence is told apart by its epoch, even once it has caught up with the old number", () =>
    Effect.gen(function*() {
      const prefix = unique("bus-epoch")
      const a = yield* instance(prefix)
      const b = yield* instance(prefix, { healthCheckInterval: "1 hour" }) // only the messages can tell
      const redis = (yield* client) as Redis
      yield* b.getOrCompute("kept", Value, Effect.succeed({ id: "k", version: 0 }))
      yield* a.invalidate("x")
      yield* a.invalidate("y")
      yield* eventually(Effect.map(b.stats, (stats) => stats.gapsApplied === 0), () => true)
      // Redis loses everything (a restart without persistence), and a write b is not told of lands
      const base = `{${prefix}~bus:bus}`
      yield* Effect.promise(() => redis.del(`${base}:seq`, `${base}:stream`, `${base}:epoch`))
      const silent = yield* buildCache({ namespace: "bus" }, RedisTier.layer({ keyPrefix: prefix }))
      yield* silent.set("kept", Value, { id: "k", version: 9 })
      for (const key of ["p", "q", "r"]) yield* a.invalidate(key) // sequence 1, 2, 3 again: past b's 2
      yield* eventually(versionOf(b, "kept"), (version) => version === 9)
      assert.isAbove((yield* b.stats).fleet.bus!.dropped, 0)
    }).pipe(Effect.provide(standalone())))

  it.scopedLive("Cluster: sharded pub/sub carries sets between instances, and replays after a kill", () =>
    Effect.gen(function*() {
      const prefix = unique("bus-cluster")
      // no health checks: only the sharded subscription (and its reconnects) can deliver
      const a = yield* instance(prefix, { healthCheckInterval: "1 hour" })
      const b = yield* instance(prefix, { healthCheckInterval: "1 hour" })
      for (let key = 0; key < 10; key++) {
        yield* b.getOrCompute(`k${key}`, Value, Effect.succeed({ id: "k", version: 0 }))
      }
      for (let key = 0; key < 10; key++) yield* a.set(`k${key}`, Value, { id: "k", version: 1 })
      for (let key = 0; key < 10; key++) yield* eventually(versionOf(b, `k${key}`), (version) => version === 1)
      const connection = yield* RedisConnection.RedisConnection
      const masters = (connection.client as unknown as { nodes: (role: string) => Array<Redis> }).nodes("master")
      yield* Effect.promise(() => Promise.all(masters.map((node) => node.call("CLIENT", "KILL", "TYPE", "pubsub"))))
      for (let key = 0; key < 10; key++) yield* a.set(`k${key}`, Value, { id: "k", version: 2 })
      for (let key = 0; key < 10; key++) yield* eventually(versionOf(b, `k${key}`), (version) => version === 2)
    }).pipe(Effect.provide(cluster())))

  it.scopedLive("the stream keeps an audit log of the namespace's invalidations", () =>
    Effect.gen(function*() {
      const prefix = unique("bus-audit")
      const a = yield* instance(prefix)
      yield* a.invalidate(["p", "q"])
      yield* a.invalidateTags(["t"])
      const redis = (yield* client) as Redis
      const entries = yield* Effect.promise(() => redis.xrange(`{${prefix}~bus:bus}:stream`, "-", "+"))
      const messages = entries.map(([, fields]) => JSON.parse(fields[1]))
      assert.deepStrictEqual(entries.map(([id]) => id), ["1-0", "2-0"])
      assert.deepStrictEqual(messages.map((message) => message._tag), ["KeysInvalidated", "TagsInvalidated"])
      assert.deepStrictEqual(messages[0].keys, ["p", "q"])
    }).pipe(Effect.provide(standalone())))

  for (const [label, connection] of [["standalone", standalone], ["cluster", cluster]] as const) {
    it.scopedLive(`${label}: invalidatePattern drops matching keys in Redis and in every instance's memory, and no other`, () =>
      Effect.gen(function*() {
        const prefix = unique("bus-pattern")
        const a = yield* instance(prefix)
        const b = yield* instance(prefix)
        const keys = ["product:42:a", "product:42:b:c", "product:420:a", "product:4:a", "other:42:a"]
        for (const key of keys) yield* a.set(key, Value, { id: key, version: 1 })
        for (const key of keys) assert.strictEqual(yield* versionOf(b, key), 1)
        yield* a.invalidatePattern("product:42:*")
        const fresh = yield* buildCache({ namespace: "bus" }, RedisTier.layer({ keyPrefix: prefix }))
        const expected = [-1, -1, 1, 1, 1]
        assert.deepStrictEqual(yield* Effect.forEach(keys, (key) => versionOf(fresh, key)), expected, "in Redis")
        assert.deepStrictEqual(yield* Effect.forEach(keys, (key) => versionOf(a, key)), expected, "on a")
        yield* eventually(
          Effect.forEach(keys, (key) => versionOf(b, key)),
          (versions) => versions.join() === expected.join()
        )
      }).pipe(Effect.provide(connection())))
  }
})
