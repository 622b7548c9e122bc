/**
 * The Redis tier under load, with Redis healthy: no call is timed out whose
 * reply came in time, the breaker opens only on real failures, and a big value
 * neither blocks the tier nor opens the circuit for every key.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Cache } from "@layercake/core"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { Redis } from "ioredis"
import { inject } from "vitest"
import { RedisBus, RedisConnection, RedisTier } from "../src/index.js"
import { buildCache, standalone, unique } from "./utils.js"

const Profile = Schema.Struct({
  id: Schema.Number,
  name: Schema.String,
  tags: Schema.Array(Schema.String),
  address: Schema.Struct({ street: Schema.String, city: Schema.String })
})

const profile = (id: number) => ({
  id,
  name: `user ${id}`,
  tags: Array.from({ length: 20 }, (_, i) => `tag-${i}-${"x".repeat(20)}`),
  address: { street: `${id} Main Street`, city: "Springfield" }
})

const Blob = Schema.Struct({ blob: Schema.String })

/** Log lines at warning or above, kept in an array. */
const recordWarnings = () => {
  const lines: Array<string> = []
  const logger = Logger.make(({ logLevel, message }) => {
    if (logLevel._tag === "Warning" || logLevel._tag === "Error" || logLevel._tag === "Fatal") {
      lines.push(String(Array.isArray(message) ? message.join(" ") : message))
    }
  })
  return { lines, layer: Logger.replace(Logger.defaultLogger, logger) }
}

const redisStats = (stats: Cache.Stats) => stats.perTier.find((tier) => tier.name === "redis")!

/** `count` concurrent misses on distinct keys through a cache over Redis alone. */
const misses = (count: number) =>
  Effect.gen(function*() {
    const prefix = unique("load")
    const cache = yield* buildCache({ namespace: "load" }, RedisTier.layer({ keyPrefix: prefix }))
    const values = yield* Effect.forEach(
      Array.from({ length: count }, (_, i) => i),
      (i) => cache.getOrCompute(`k${i}`, Profile, Effect.succeed(profile(i)), { ttl: "1 minute" }),
      { concurrency: "unbounded" }
    )
    const client = (yield* RedisConnection.RedisConnection).client as Redis
    const stored = yield* Effect.promise(() => client.exists(...values.map((value) => `${prefix}:load:k${value.id}`)))
    return { values, stats: yield* cache.stats, stored }
  }).pipe(Effect.provide(standalone()), Effect.scoped)

describe("RedisTier under load", () => {
  for (const count of [2_000, 10_000]) {
    it.live(
      `${count} concurrent misses on distinct keys: no false timeouts, no warnings, every write stored`,
      () =>
        Effect.gen(function*() {
          const warnings = recordWarnings()
          const { stats, stored, values } = yield* misses(count).pipe(Effect.provide(warnings.layer))
          assert.strictEqual(values.length, count)
          assert.deepStrictEqual(values[count - 1], profile(count - 1))
          assert.deepStrictEqual(redisStats(stats), { name: "redis", hits: 0, misses: count, errors: 0, hitRatio: 0 })
          assert.strictEqual(stored, count)
          assert.deepStrictEqual(warnings.lines, [])
        }),
      120_000
    )
  }

  it.live(
    "a user whose ACL lacks EVALSHA: Redis answers, so the circuit stays closed; one warning per kind",
    () =>
      Effect.gen(function*() {
        const url = new URL(inject("redisUrl"))
        const admin = new Redis({ host: url.hostname, port: Number(url.port) })
        const user = unique("noscripts")
        yield* Effect.scoped(Effect.gen(function*() {
          yield* Effect.acquireRelease(
            Effect.promise(() => admin.acl("SETUSER", user, "on", ">secret", "~*", "&*", "+@all", "-evalsha", "-eval")),
            () => Effect.promise(() => admin.acl("DELUSER", user).then(() => admin.quit()))
          )
          const prefix = unique("acl")
          yield* Effect.promise(() => admin.set(`${prefix}:acl:present`, "x"))
          const warnings = recordWarnings()
          const connection = RedisConnection.layer({ url: `redis://${user}:secret@${url.hostname}:${url.port}` })
          const instance = (id: number) =>
            Effect.gen(function*() {
              const tiers = RedisTier.layer({ keyPrefix: prefix })
              const cache = yield* buildCache({ namespace: "acl" }, tiers).pipe(
                Effect.provide(RedisBus.layer({ keyPrefix: prefix }))
              )
              for (let round = 0; round < 20; round++) {
                yield* Effect.forEach(
                  Array.from({ length: 50 }, (_, i) => `${id}-${round}-${i}`),
                  (key) => cache.getOrCompute(key, Profile, Effect.succeed(profile(round)), { ttl: "1 minute" }),
                  { concurrency: "unbounded", discard: true }
                )
              }
              return yield* cache.stats
            }).pipe(Effect.scoped, Effect.provide(connection))
          const [a, b] = yield* Effect.all([instance(1), instance(2)], { concurrency: 2 }).pipe(
            Effect.provide(warnings.layer)
          )
          // reads (plain GET) reached Redis; every fence and write (scripts) failed with NOPERM: Redis
          // answers, so the circuit never opened
          for (const stats of [a, b]) {
            assert.deepStrictEqual(redisStats(stats), {
              name: "redis",
              hits: 0,
              misses: 1_000,
              errors: 2_000,
              hitRatio: 0
            })
          }
          assert.isFalse(warnings.lines.some((line) => line.includes("circuit")), warnings.lines.join("\n"))
          // one warning per instance and kind (fence, set); the other 3,992 went to debug
          assert.deepStrictEqual([...warnings.lines].sort(), [
            "layercake: tier redis could not give a fence point; the compute's result is not stored there",
            "layercake: tier redis could not give a fence point; the compute's result is not stored there",
            "layercake: tier redis set failed, skipping it",
            "layercake: tier redis set failed, skipping it"
          ])
        }))
      }),
    60_000
  )

  it.live(
    "a 100 MB value: set refuses it with a typed error, nothing is stored, the tier stays usable",
    () =>
      Effect.suspend(() => {
        const warnings = recordWarnings()
        return Effect.gen(function*() {
          const prefix = unique("big")
          const cache = yield* buildCache({ namespace: "big" }, RedisTier.layer({ keyPrefix: prefix }))
          yield* cache.set("small", Blob, { blob: "old" })
          const exit = yield* Effect.exit(cache.set("small", Blob, { blob: "x".repeat(100_000_000) }))
          assert.isTrue(Exit.isFailure(exit))
          assert.include(String(Exit.isFailure(exit) ? exit.cause : ""), "maxValueBytes")
          // the old value does not survive a set that was refused
          assert.isTrue(Option.isNone(yield* cache.get("small", Blob)))
          const client = (yield* RedisConnection.RedisConnection).client as Redis
          assert.strictEqual(yield* Effect.promise(() => client.exists(`${prefix}:big:small`)), 0)
          const stats = yield* cache.stats
          assert.strictEqual(redisStats(stats).errors, 1)
          assert.isTrue(warnings.lines.some((line) => line.includes("set failed")), warnings.lines.join("\n"))
          yield* cache.set("small", Blob, { blob: "new" })
          assert.deepStrictEqual(yield* cache.get("small", Blob), Option.some({ blob: "new" }))
        }).pipe(Effect.provide(warnings.layer), Effect.provide(standalone()), Effect.scoped)
      }),
    60_000
  )

  for (const bus of [false, true]) {
    const path = bus ? "with a bus" : "without a bus"
    it.live(
      `reads of a 100 MB key never open the circuit for the other keys; ${path}`,
      () =>
        Effect.suspend(() => {
          const warnings = recordWarnings()
          return Effect.gen(function*() {
            const prefix = unique("bigread")
            // written by a tier that allows it (another service, an older version, a raised bound)
            const writer = yield* buildCache(
              { namespace: "big" },
              RedisTier.layer({ keyPrefix: prefix, maxValueBytes: Infinity, operationTimeout: "10 seconds" })
            )
            yield* writer.set("huge", Blob, { blob: "x".repeat(100_000_000) })
            yield* writer.set("small", Blob, { blob: "small" })
            const tier = RedisTier.layer({
              keyPrefix: prefix,
              operationTimeout: "250 millis",
              circuitBreaker: { failureThreshold: 3 }
            })
            const reader = yield* buildCache(
              { namespace: "big" },
              bus ? tier.pipe(Layer.provideMerge(RedisBus.layer({ keyPrefix: prefix }))) : tier
            )
            for (let i = 0; i < 6; i++) {
              assert.isTrue(Option.isNone(yield* reader.get("huge", Blob)))
            }
            const stats = yield* reader.stats
            // each read either timed out while the value streamed in, or came in time and was refused by size
            assert.strictEqual(redisStats(stats).errors + stats.decodeFailures, 6)
            assert.isAtMost(warnings.lines.filter((line) => line.includes("get failed")).length, 1)
            yield* Effect.sleep("2 seconds") // the huge replies drain
            assert.deepStrictEqual(yield* reader.get("small", Blob), Option.some({ blob: "small" }))
            assert.isFalse(warnings.lines.some((line) => line.includes("circuit")), warnings.lines.join("\n"))
          }).pipe(Effect.provide(warnings.layer), Effect.provide(standalone()), Effect.scoped)
        }),
      60_000
    )
  }
})
