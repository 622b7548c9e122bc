import { assert, describe, it } from "@effect/vitest"
import type { CacheTier } from "@layercake/core"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import type { Cluster } from "ioredis"
import { RedisConnection, RedisTier } from "../src/index.js"
import { slotOf } from "../src/internal/slot.js"
import { buildCache, buildTier, client, cluster, entry, recordCommands, unique } from "./utils.js"

const redis = Effect.map(client, (client) => client as Cluster)

/** Keys of this prefix on each master. */
const keysPerMaster = (raw: Cluster, pattern: string) =>
  Effect.promise(() =>
    Promise.all(
      raw.nodes("master").map(async (node) => {
        const found: Array<string> = []
        let cursor = "0"
        do {
          const [next, keys] = await node.scan(cursor, "MATCH", pattern, "COUNT", 1000)
          found.push(...keys)
          cursor = next
        } while (cursor !== "0")
        return found
      })
    )
  )

describe("RedisTier (cluster, 3 masters)", () => {
  it.scoped("the connection is a Cluster", () =>
    Effect.gen(function*() {
      const connection = yield* RedisConnection.RedisConnection
      assert.isTrue(connection.isCluster)
      assert.strictEqual((yield* redis).nodes("master").length, 3)
    }).pipe(Effect.provide(cluster())))

  it.scoped("two instances see each other's writes; keys of every shape, hash tags included", () =>
    Effect.gen(function*() {
      const tiers = RedisTier.layer({ keyPrefix: unique("cluster") })
      const a = yield* buildCache({ namespace: "ns" }, tiers)
      const b = yield* buildCache({ namespace: "ns" }, tiers)
      const keys = ["plain", "ключ 🔑", "with space", "a:b:c", "{user1}:profile", "{user1}:settings", "{", ""]
      yield* Effect.forEach(
        keys,
        (key, i) => a.set(key, Schema.Struct({ i: Schema.Number, at: Schema.Date }), { i, at: new Date(i) })
      )
      for (const [i, key] of keys.entries()) {
        assert.deepStrictEqual(
          yield* b.get(key, Schema.Struct({ i: Schema.Number, at: Schema.Date })),
          Option.some({ i, at: new Date(i) }),
          key
        )
      }
      const stats = yield* b.stats
      assert.strictEqual(stats.tierErrors, 0)
    }).pipe(Effect.provide(cluster())))

  it.scoped("getMany groups keys by slot: one MGET per slot, results in key order", () =>
    Effect.gen(function*() {
      const prefix = unique("slots")
      const tier = yield* buildTier({ keyPrefix: prefix })
      const now = yield* Clock.currentTimeMillis
      const keys = Array.from({ length: 20 }, (_, i) => `ns:${i}`)
      yield* tier.setMany(keys.map((key, i) => [key, entry(i, Schema.Number, now)] as const))
      const recorder = recordCommands(yield* client)
      const results = yield* tier.getMany([...keys, "ns:missing"], Schema.Number)
      recorder.restore()
      const slots = new Set([...keys, "ns:missing"].map((key) => slotOf(`${prefix}:${key}`)))
      assert.deepStrictEqual(recorder.names, Array(slots.size).fill("mget"))
      assert.deepStrictEqual(results.map((result) => (result as CacheTier.Entry<number> | undefined)?.value), [
        ...keys.map((_, i) => i),
        undefined
      ])

      const tagged = [`{user1}:a`, `{user1}:b`, `{user1}:c`]
      yield* tier.setMany(tagged.map((key, i) => [key, entry(i, Schema.Number, now)] as const))
      recorder.reset()
      const sameSlot = recordCommands(yield* client)
      yield* tier.getMany(tagged, Schema.Number)
      sameSlot.restore()
      assert.deepStrictEqual(sameSlot.names, ["mget"])
    }).pipe(Effect.provide(cluster())))

  it.scoped("concurrent gets (coalesced per tick, then one MGET per slot) read every value right, tags checked", () =>
    Effect.gen(function*() {
      const prefix = unique("batch")
      const tier = yield* buildTier({ keyPrefix: prefix })
      const now = yield* Clock.currentTimeMillis
      const keys = Array.from({ length: 150 }, (_, i) => `ns:${i}`)
      yield* tier.setMany(
        keys.map((key, i) => [key, entry(i, Schema.Number, now, i % 10 === 0 ? ["ns:t"] : [])] as const)
      )
      yield* tier.invalidateTags(["ns:t"], now) // entries created at `now` carrying ns:t are invalid
      const reads = [...keys, ...keys.slice(0, 20), "ns:missing"]
      const results = yield* Effect.all(reads.map((key) => tier.get(key, Schema.Number)), { concurrency: "unbounded" })
      const expected = reads.map((key) => {
        const i = Number(key.slice(3))
        return key === "ns:missing" || i % 10 === 0 ? undefined : i
      })
      assert.deepStrictEqual(results.map((result) => (result as CacheTier.Entry<number> | undefined)?.value), expected)
    }).pipe(Effect.provide(cluster())))

  it.scoped("tags across instances; tag times are fetched only for entries that carry tags", () =>
    Effect.gen(function*() {
      const tiers = RedisTier.layer({ keyPrefix: unique("cluster-tags") })
      const a = yield* buildCache({ namespace: "ns" }, tiers)
      const b = yield* buildCache({ namespace: "ns" }, tiers)
      yield* a.set("u1", Schema.String, "v1", { tags: ["users"] })
      yield* a.set("p1", Schema.String, "p", { tags: ["posts"] })
      yield* a.set("plain", Schema.String, "x")
      yield* TestClock.adjust(1)
      yield* b.invalidateTags(["users", "unrelated"])
      const recorder = recordCommands(yield* client)
      assert.deepStrictEqual(yield* a.get("plain", Schema.String), Option.some("x"))
      assert.deepStrictEqual(recorder.names, ["mget"])
      recorder.reset()
      assert.deepStrictEqual(yield* a.get("u1", Schema.String), Option.none())
      assert.deepStrictEqual(recorder.names, ["mget", "mget"])
      recorder.restore()
      assert.deepStrictEqual(yield* a.get("p1", Schema.String), Option.some("p"))
      yield* TestClock.adjust(1)
      yield* a.set("u1", Schema.String, "v2", { tags: ["users"] })
      assert.deepStrictEqual(yield* b.get("u1", Schema.String), Option.some("v2"))
    }).pipe(Effect.provide(cluster())))

  it.scoped("clear scans every master and removes only this namespace", () =>
    Effect.gen(function*() {
      const prefix = unique("cluster-clear")
      const tier = yield* buildTier({ keyPrefix: prefix })
      const now = yield* Clock.currentTimeMillis
      yield* tier.setMany(Array.from({ length: 600 }, (_, i) => [`alpha:${i}`, entry(i, Schema.Number, now)] as const))
      yield* tier.setMany([["beta:1", entry(1, Schema.Number, now)], ["alphabet:1", entry(1, Schema.Number, now)]])
      const raw = yield* redis
      const before = yield* keysPerMaster(raw, `${prefix}:alpha:*`)
      assert.isTrue(before.every((keys) => keys.length > 0), "every master holds some keys")
      yield* tier.clear("alpha:")
      const after = yield* keysPerMaster(raw, `${prefix}:*`)
      const values = after.flat().filter((key) => !key.includes("~fence:")) // fence keys expire on their own
      assert.deepStrictEqual(values.sort(), [`${prefix}:alphabet:1`, `${prefix}:beta:1`])
    }).pipe(Effect.provide(cluster())))

  it.scoped("decode failures are misses in Cluster too", () =>
    Effect.gen(function*() {
      const prefix = unique("cluster-decode")
      const cache = yield* buildCache({ namespace: "ns" }, RedisTier.layer({ keyPrefix: prefix }))
      const raw = yield* redis
      yield* Effect.promise(() => raw.set(`${prefix}:ns:foreign`, "not an envelope"))
      yield* Effect.promise(() => raw.hset(`${prefix}:ns:hash`, "f", "v"))
      assert.deepStrictEqual(yield* cache.get("foreign", Schema.String), Option.none())
      assert.deepStrictEqual(yield* cache.get("hash", Schema.String), Option.none())
      const stats = yield* cache.stats
      assert.strictEqual(stats.decodeFailures, 1)
      assert.strictEqual(stats.tierErrors, 0)
    }).pipe(Effect.provide(cluster())))
})
