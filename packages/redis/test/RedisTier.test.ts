import { assert, describe, it } from "@effect/vitest"
import { CacheTier } from "@layercake/core"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import type { Redis } from "ioredis"
import { RedisTier } from "../src/index.js"
import { buildCache, buildTier, client, entry, localTier, recordCommands, standalone, unique } from "./utils.js"

const redis = Effect.map(client, (client) => client as Redis)
const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

describe("RedisTier (standalone)", () => {
  describe("values", () => {
    it.scoped("Date, bigint, Map and Uint8Array survive the trip through Redis (json)", () =>
      Effect.gen(function*() {
        const tiers = RedisTier.layer({ keyPrefix: unique("values") })
        const writer = yield* buildCache({ namespace: "ns" }, tiers)
        const reader = yield* buildCache({ namespace: "ns" }, tiers)
        const schema = Schema.Struct({
          at: Schema.Date,
          big: Schema.BigInt,
          map: Schema.Map({ key: Schema.String, value: Schema.Number }),
          bytes: Schema.Uint8Array
        })
        const value = {
          at: new Date("2024-02-29T12:00:00.123Z"),
          big: 2n ** 80n + 1n,
          map: new Map([["a", 1], ["b", 2]]),
          bytes: new Uint8Array([0, 1, 254, 255])
        }
        yield* writer.set("v", schema, value)
        assert.deepStrictEqual(yield* reader.get("v", schema), Option.some(value))
      }).pipe(Effect.provide(standalone())))

    it.scoped("msgpack carries `…FromSelf` schemas (binary, Date, bigint, Set) as they are", () =>
      Effect.gen(function*() {
        const tiers = RedisTier.layer({ keyPrefix: unique("msgpack"), codec: "msgpack" })
        const writer = yield* buildCache({ namespace: "ns" }, tiers)
        const reader = yield* buildCache({ namespace: "ns" }, tiers)
        const schema = Schema.Struct({
          at: Schema.DateFromSelf,
          big: Schema.BigIntFromSelf,
          set: Schema.SetFromSelf(Schema.Number),
          map: Schema.Map({ key: Schema.Number, value: Schema.String }),
          bytes: Schema.Uint8ArrayFromSelf
        })
        const value = {
          at: new Date(7),
          big: -(2n ** 62n),
          set: new Set([1, 2]),
          map: new Map([[1, "one"]]),
          bytes: new Uint8Array([9, 8, 7])
        }
        yield* writer.set("v", schema, value)
        const read = yield* reader.get("v", schema)
        assert.isTrue(Option.isSome(read))
        const got = Option.getOrThrow(read)
        assert.strictEqual(got.at.getTime(), 7)
        assert.strictEqual(got.big, -(2n ** 62n))
        assert.strictEqual(got.map.get(1), "one")
        assert.deepStrictEqual([...got.set], [1, 2])
        assert.deepStrictEqual([...got.bytes], [9, 8, 7])
      }).pipe(Effect.provide(standalone())))

    it.scoped(
      "values of 0 bytes and of 10 MB (with maxValueBytes raised above its 8 MiB default), with both codecs",
      () =>
        Effect.gen(function*() {
          const prefix = unique("sizes")
          const bigValues = { operationTimeout: "10 seconds", maxValueBytes: 64 * 1024 * 1024 } as const
          const binary = RedisTier.layer({ keyPrefix: prefix, codec: "msgpack", ...bigValues })
          const text = RedisTier.layer({ keyPrefix: prefix, name: "redis-json", ...bigValues })
          const writeBinary = yield* buildCache({ namespace: "bin" }, binary)
          const readBinary = yield* buildCache({ namespace: "bin" }, binary)
          const writeText = yield* buildCache({ namespace: "txt" }, text)
          const readText = yield* buildCache({ namespace: "txt" }, text)
          const big = new Uint8Array(10 * 1024 * 1024)
          for (let i = 0; i < big.length; i += 4096) big[i] = i % 251
          yield* writeBinary.set("empty", Schema.Uint8ArrayFromSelf, new Uint8Array(0))
          yield* writeBinary.set("big", Schema.Uint8ArrayFromSelf, big)
          yield* writeText.set("empty", Schema.String, "")
          yield* writeText.set("big", Schema.String, "é".repeat(5 * 1024 * 1024))
          const empty = Option.getOrThrow(yield* readBinary.get("empty", Schema.Uint8ArrayFromSelf))
          assert.strictEqual(empty.length, 0)
          const bigRead = Option.getOrThrow(yield* readBinary.get("big", Schema.Uint8ArrayFromSelf))
          assert.strictEqual(Buffer.compare(Buffer.from(bigRead), Buffer.from(big)), 0)
          assert.deepStrictEqual(yield* readText.get("empty", Schema.String), Option.some(""))
          const bigText = Option.getOrThrow(yield* readText.get("big", Schema.String))
          assert.strictEqual(bigText.length, 5 * 1024 * 1024)
          assert.isTrue(bigText === "é".repeat(5 * 1024 * 1024))
          const stats = yield* readText.stats
          assert.strictEqual(stats.tierErrors, 0)
        }).pipe(Effect.provide(standalone())),
      60_000
    )

    it.scoped("a schema encoding to `undefined` round-trips (empty JSON payload)", () =>
      Effect.gen(function*() {
        const tiers = RedisTier.layer({ keyPrefix: unique("undefined") })
        const writer = yield* buildCache({ namespace: "ns" }, tiers)
        const reader = yield* buildCache({ namespace: "ns" }, tiers)
        yield* writer.set("nothing", Schema.Undefined, undefined)
        assert.deepStrictEqual(yield* reader.get("nothing", Schema.Undefined), Option.some(undefined))
      }).pipe(Effect.provide(standalone())))

    it.scoped("keys with unicode, spaces, colons, {hash tags} and the empty key", () =>
      Effect.gen(function*() {
        const prefix = unique("keys")
        const tiers = RedisTier.layer({ keyPrefix: prefix })
        const writer = yield* buildCache({ namespace: "ns" }, tiers)
        const reader = yield* buildCache({ namespace: "ns" }, tiers)
        const keys = ["ключ 🔑", "with  spaces ", "a:b::c:", "{user1}:profile", "{", "}{", "*?[]\\", ""]
        yield* Effect.forEach(keys, (key, i) => writer.set(key, Schema.Number, i))
        for (const [i, key] of keys.entries()) {
          assert.deepStrictEqual(yield* reader.get(key, Schema.Number), Option.some(i), key)
        }
        const raw = yield* redis
        assert.strictEqual(yield* promise(() => raw.exists(`${prefix}:ns:ключ 🔑`)), 1)
      }).pipe(Effect.provide(standalone())))
  })

  describe("reads and writes", () => {
    it.scoped("getMany is one MGET, and one more for the tag times when an entry lists tags; results in key order", () =>
      Effect.gen(function*() {
        const tier = yield* buildTier({ keyPrefix: unique("many") })
        const now = yield* Clock.currentTimeMillis
        yield* tier.setMany([
          ["ns:a", entry("A", Schema.String, now)],
          ["ns:b", entry("B", Schema.String, now, ["t1"])],
          ["ns:c", entry("C", Schema.String, now)]
        ])
        const recorder = recordCommands(yield* client)
        const untagged = yield* tier.getMany(["ns:c", "ns:a"], Schema.String)
        assert.deepStrictEqual(recorder.names, ["mget"])
        assert.strictEqual(untagged.length, 2)
        recorder.reset()
        const results = yield* tier.getMany(["ns:c", "ns:missing", "ns:a", "ns:b"], Schema.String)
        recorder.restore()
        assert.deepStrictEqual(recorder.names, ["mget", "mget"])
        assert.deepStrictEqual(
          results.map((result) => result === undefined ? undefined : (result as CacheTier.Entry<string>).value),
          ["C", undefined, "A", "B"]
        )
        assert.deepStrictEqual((results[3] as CacheTier.Entry<string>).tags, ["t1"])
      }).pipe(Effect.provide(standalone())))

    it.scoped("without a bus, a read of a tagged entry fetches its tags' times in a second round trip", () =>
      Effect.gen(function*() {
        const tier = yield* buildTier({ keyPrefix: unique("one-trip") })
        const now = yield* Clock.currentTimeMillis
        yield* tier.set("ns:k", entry(1, Schema.Number, now, ["a", "b", "c"]))
        yield* tier.invalidateTags(["z"], now)
        const recorder = recordCommands(yield* client)
        const result = yield* tier.get("ns:k", Schema.Number)
        recorder.restore()
        assert.deepStrictEqual(recorder.names, ["mget", "mget"])
        assert.strictEqual((result as CacheTier.Entry<number>).value, 1)
      }).pipe(Effect.provide(standalone())))

    it.scoped("setMany writes every entry (one pipeline); a cached failure reads only with its error schema", () =>
      Effect.gen(function*() {
        const prefix = unique("set-many")
        const tier = yield* buildTier({ keyPrefix: prefix })
        const now = yield* Clock.currentTimeMillis
        yield* tier.setMany(Array.from({ length: 50 }, (_, i) => [`ns:${i}`, entry(i, Schema.Number, now)] as const))
        yield* tier.set("ns:negative", { ...entry("boom", Schema.String, now), negative: true })
        const results = yield* tier.getMany(Array.from({ length: 50 }, (_, i) => `ns:${i}`), Schema.Number)
        assert.deepStrictEqual(results.map((result) => (result as CacheTier.Entry<number>).value), [
          ...Array(50).keys()
        ])
        assert.strictEqual(yield* tier.get("ns:negative", Schema.Number), undefined)
        const negative = (yield* tier.get("ns:negative", Schema.Number, Schema.String)) as CacheTier.Entry
        assert.isTrue(negative.negative)
        assert.strictEqual(negative.value, "boom")
      }).pipe(Effect.provide(standalone())))

    it.scoped("a failure cached with errorTtl goes to Redis, and another instance serves it only with its errorSchema", () =>
      Effect.gen(function*() {
        const prefix = unique("negative")
        const tiers = RedisTier.layer({ keyPrefix: prefix })
        const first = yield* buildCache({ namespace: "ns" }, CacheTier.stack(localTier().layer, tiers))
        const second = yield* buildCache({ namespace: "ns" }, CacheTier.stack(localTier().layer, tiers))
        const NotFound = Schema.Struct({ _tag: Schema.Literal("NotFound"), id: Schema.Number })
        const options = { errorTtl: "1 minute", errorSchema: NotFound } as const
        const notFound = { _tag: "NotFound" as const, id: 7 }
        assert.deepStrictEqual(
          yield* Effect.either(first.getOrCompute("k", Schema.Number, Effect.fail(notFound), options)),
          Either.left(notFound)
        )
        const raw = yield* redis
        assert.strictEqual(yield* promise(() => raw.exists(`${prefix}:ns:k`)), 1)
        let computed = 0
        const counting = Effect.suspend(() => {
          computed++
          return Effect.fail(notFound)
        })
        assert.deepStrictEqual(
          yield* Effect.either(second.getOrCompute("k", Schema.Number, counting, options)),
          Either.left(notFound)
        )
        assert.strictEqual(computed, 0, "the second instance got the cached failure from Redis")
        assert.strictEqual((yield* second.stats).negativeHits, 1)
        // a caller without an error schema does not see it: it computes its own value
        const third = yield* buildCache({ namespace: "ns" }, tiers)
        assert.strictEqual(yield* third.getOrCompute("k", Schema.Number, Effect.succeed(42)), 42)
      }).pipe(Effect.provide(standalone())))

    it.scoped("json: a value JSON would not give back fails Cache.set with a ParseError pointing at msgpack", () =>
      Effect.gen(function*() {
        const prefix = unique("nan")
        const cache = yield* buildCache({ namespace: "ns" }, RedisTier.layer({ keyPrefix: prefix }))
        const Score = Schema.Struct({ score: Schema.Number })
        yield* cache.set("s", Score, { score: 1 })
        const exit = yield* Effect.exit(cache.set("s", Score, { score: NaN }))
        assert.isTrue(Exit.isFailure(exit))
        const message = Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""
        assert.include(message, "value.score is NaN")
        assert.include(message, "msgpack")
        const raw = yield* redis
        assert.strictEqual(yield* promise(() => raw.exists(`${prefix}:ns:s`)), 0, "the older value is gone too")
        const packed = yield* buildCache({ namespace: "ns" }, RedisTier.layer({ keyPrefix: prefix, codec: "msgpack" }))
        yield* packed.set("s", Score, { score: NaN })
        assert.isTrue(Number.isNaN(Option.getOrThrow(yield* packed.get("s", Score)).score))
      }).pipe(Effect.provide(standalone())))

    it.scoped("Schema code that throws: a decode failure on read, an Encode error on write; never a crash", () =>
      Effect.gen(function*() {
        const prefix = unique("throws")
        const tier = yield* buildTier({ keyPrefix: prefix })
        const now = yield* Clock.currentTimeMillis
        yield* tier.set("k", entry("not a url", Schema.String, now))
        const Url = Schema.transform(Schema.String, Schema.Unknown, {
          strict: true,
          decode: (s) => new URL(s),
          encode: String
        })
        assert.instanceOf(yield* tier.get("k", Url), CacheTier.DecodeFailure)
        const Exploding = Schema.transform(Schema.String, Schema.String, {
          strict: true,
          decode: (s) => s,
          encode: () => {
            throw new Error("encode exploded")
          }
        })
        const failed = yield* Effect.flip(tier.set("e", entry("v", Exploding, now)))
        assert.strictEqual(failed.reason, "Encode")
        assert.include(failed.message, "encode exploded")
        const many = yield* tier.getMany(["k", "missing"], Url)
        assert.instanceOf(many[0], CacheTier.DecodeFailure)
        assert.include((many[0] as CacheTier.DecodeFailure).reason, "the schema threw")
        // an encoded value whose getter throws while the json check walks it
        const Hostile = Schema.declare((u: unknown): u is object => typeof u === "object" && u !== null)
        const hostile = Object.defineProperty({}, "field", {
          enumerable: true,
          get: () => {
            throw new Error("getter exploded")
          }
        })
        const walked = yield* Effect.flip(tier.set("h", entry(hostile, Hostile, now)))
        assert.strictEqual(walked.reason, "Encode")
        assert.include(walked.message, "getter exploded")
      }).pipe(Effect.provide(standalone())))

    it.scoped("a key that is not well-formed Unicode: set refuses it, get is a decode failure without a round trip", () =>
      Effect.gen(function*() {
        const prefix = unique("surrogate")
        const tier = yield* buildTier({ keyPrefix: prefix })
        const now = yield* Clock.currentTimeMillis
        const failed = yield* Effect.flip(tier.set("\uD800", entry("a", Schema.String, now)))
        assert.strictEqual(failed.reason, "Encode")
        assert.include(failed.message, "not well-formed Unicode")
        // in UTF-8 both lone surrogates become U+FFFD: the Redis key of "\uFFFD"
        yield* tier.set("\uFFFD", entry("replacement", Schema.String, now))
        const recorder = recordCommands(yield* client)
        const read = yield* tier.get("\uDC00", Schema.String)
        const many = yield* tier.getMany(["\uFFFD", "\uD800", "missing"], Schema.String)
        yield* tier.delete(["\uD800"])
        recorder.restore()
        assert.instanceOf(read, CacheTier.DecodeFailure)
        assert.include((read as CacheTier.DecodeFailure).reason, "not well-formed Unicode")
        assert.strictEqual((many[0] as CacheTier.Entry<string>).value, "replacement")
        assert.instanceOf(many[1], CacheTier.DecodeFailure)
        assert.isUndefined(many[2])
        assert.deepStrictEqual(recorder.names, ["mget"], "only getMany's well-formed keys went to Redis")
        assert.strictEqual(
          ((yield* tier.get("\uFFFD", Schema.String)) as CacheTier.Entry<string>).value,
          "replacement",
          "deleting the ill-formed key did not delete the key it collides with"
        )
      }).pipe(Effect.provide(standalone())))

    it.scoped("a tag that is not well-formed Unicode is refused by set, and the key's older value deleted", () =>
      Effect.gen(function*() {
        const prefix = unique("surrogate-tag")
        const tier = yield* buildTier({ keyPrefix: prefix })
        const now = yield* Clock.currentTimeMillis
        yield* tier.set("k", entry("old", Schema.String, now))
        const failed = yield* Effect.flip(tier.set("k", entry("new", Schema.String, now, ["ok", "\uDBFF"])))
        assert.strictEqual(failed.reason, "Encode")
        assert.include(failed.message, "a tag is not well-formed Unicode")
        assert.isUndefined(yield* tier.get("k", Schema.String))
      }).pipe(Effect.provide(standalone())))

    it.scoped("a format-1 envelope (before the negative flag) is a decode failure, tags or not", () =>
      Effect.gen(function*() {
        const prefix = unique("format-1")
        const tier = yield* buildTier({ keyPrefix: prefix })
        const now = yield* Clock.currentTimeMillis
        const raw = yield* redis
        for (const tags of [[], ["t"]]) {
          yield* tier.set("k", entry(1, Schema.Number, now, tags))
          const bytes = (yield* promise(() => raw.getBuffer(`${prefix}:k`)))!
          bytes[2] = 1
          yield* promise(() => raw.set(`${prefix}:k`, bytes))
          const read = yield* tier.get("k", Schema.Number)
          assert.instanceOf(read, CacheTier.DecodeFailure)
          assert.strictEqual((read as CacheTier.DecodeFailure).reason, "unknown envelope version 1")
        }
      }).pipe(Effect.provide(standalone())))

    it.scoped("a cached failure with tags is hidden by invalidateTags like a value", () =>
      Effect.gen(function*() {
        const tier = yield* buildTier({ keyPrefix: unique("negative-tags") })
        const now = yield* Clock.currentTimeMillis
        yield* tier.set("k", { ...entry("boom", Schema.String, now, ["t"]), negative: true })
        assert.isTrue(((yield* tier.get("k", Schema.Number, Schema.String)) as CacheTier.Entry).negative)
        yield* tier.invalidateTags(["t"], now)
        assert.isUndefined(yield* tier.get("k", Schema.Number, Schema.String))
      }).pipe(Effect.provide(standalone())))

    it.scoped("PX is the entry's hard end (staleUntil - now), in milliseconds", () =>
      Effect.gen(function*() {
        const prefix = unique("px")
        const cache = yield* buildCache({ namespace: "ns" }, RedisTier.layer({ keyPrefix: prefix }))
        yield* cache.set("k", Schema.Number, 1, { ttl: "10 seconds", staleWhileRevalidate: "5 seconds" })
        const raw = yield* redis
        const pttl = yield* promise(() => raw.pttl(`${prefix}:ns:k`))
        assert.isTrue(pttl > 14_000 && pttl <= 15_000, `pttl ${pttl}`)
      }).pipe(Effect.provide(standalone())))

    it.scopedLive("Redis drops the entry at its hard end (real time)", () =>
      Effect.gen(function*() {
        const prefix = unique("expiry")
        const tier = yield* buildTier({ keyPrefix: prefix })
        const now = yield* Clock.currentTimeMillis
        yield* tier.set("ns:k", { ...entry(1, Schema.Number, now), freshUntil: now + 100, staleUntil: now + 150 })
        assert.isDefined(yield* tier.get("ns:k", Schema.Number))
        yield* Effect.sleep("300 millis")
        const raw = yield* redis
        assert.strictEqual(yield* promise(() => raw.exists(`${prefix}:ns:k`)), 0)
        assert.isUndefined(yield* tier.get("ns:k", Schema.Number))
      }).pipe(Effect.provide(standalone())))

    it.scoped("an entry already past its hard end is not written", () =>
      Effect.gen(function*() {
        const prefix = unique("past")
        const tier = yield* buildTier({ keyPrefix: prefix })
        yield* TestClock.adjust("1 hour")
        const now = yield* Clock.currentTimeMillis
        yield* tier.set("ns:k", { ...entry(1, Schema.Number, now), freshUntil: now - 10, staleUntil: now - 1 })
        const raw = yield* redis
        assert.strictEqual(yield* promise(() => raw.exists(`${prefix}:ns:k`)), 0)
      }).pipe(Effect.provide(standalone())))

    it.scoped("a value that does not encode is an Encode tier error, and does not count against the breaker", () =>
      Effect.gen(function*() {
        const tier = yield* buildTier({ keyPrefix: unique("encode"), circuitBreaker: { failureThreshold: 1 } })
        const now = yield* Clock.currentTimeMillis
        const error = yield* Effect.flip(
          tier.set("ns:k", entry("not a number" as unknown as number, Schema.Number, now))
        )
        assert.strictEqual(error.reason, "Encode")
        yield* tier.set("ns:ok", entry(1, Schema.Number, now))
      }).pipe(Effect.provide(standalone())))
  })

  describe("instances", () => {
    it.scoped("two Cache instances over one Redis see each other's writes and deletes", () =>
      Effect.gen(function*() {
        const tiers = RedisTier.layer({ keyPrefix: unique("fleet") })
        const a = yield* buildCache({ namespace: "ns" }, tiers)
        const b = yield* buildCache({ namespace: "ns" }, tiers)
        yield* a.set("user:1", Schema.String, "Ada")
        assert.deepStrictEqual(yield* b.getOrCompute("user:1", Schema.String, Effect.die("computed")), "Ada")
        yield* b.invalidate("user:1")
        assert.deepStrictEqual(yield* a.get("user:1", Schema.String), Option.none())
        assert.deepStrictEqual(yield* b.getOrCompute("user:1", Schema.String, Effect.succeed("Grace")), "Grace")
        assert.deepStrictEqual(yield* a.get("user:1", Schema.String), Option.some("Grace"))
      }).pipe(Effect.provide(standalone())))

    it.scoped("promotion into a local tier keeps the remaining lifetime, and a stale entry stays stale", () =>
      Effect.gen(function*() {
        const tiers = RedisTier.layer({ keyPrefix: unique("promotion") })
        const writer = yield* buildCache({ namespace: "ns" }, tiers)
        yield* writer.set("k", Schema.Number, 1, { ttl: "10 seconds" })
        yield* writer.set("s", Schema.Number, 2, { ttl: "10 seconds", staleWhileRevalidate: "10 seconds" })
        yield* TestClock.adjust("7 seconds")
        const local = localTier()
        const reader = yield* buildCache(
          { namespace: "ns", staleWhileRevalidate: "10 seconds" },
          CacheTier.stack(local.layer, tiers)
        )
        assert.strictEqual(yield* reader.getOrCompute("k", Schema.Number, Effect.die("computed")), 1)
        const promoted = local.entries.get("ns:k")!
        assert.strictEqual(promoted.createdAt, 0)
        assert.strictEqual(promoted.freshUntil, 10_000)
        assert.strictEqual(promoted.staleUntil, 10_000)
        yield* TestClock.adjust("8 seconds") // 15 s: "k" is gone, "s" is stale
        assert.deepStrictEqual(yield* reader.get("k", Schema.Number), Option.none())
        assert.deepStrictEqual(yield* reader.get("s", Schema.Number), Option.some(2))
        const stale = local.entries.get("ns:s")!
        assert.strictEqual(stale.freshUntil, 10_000)
        assert.strictEqual(stale.staleUntil, 20_000)
        const stats = yield* reader.stats
        assert.strictEqual(stats.staleHits, 1)
      }).pipe(Effect.provide(standalone())))
  })

  describe("tags", () => {
    it.scoped("invalidating a tag on one instance hides its entries from every instance", () =>
      Effect.gen(function*() {
        const prefix = unique("tags")
        const tiers = RedisTier.layer({ keyPrefix: prefix })
        const a = yield* buildCache({ namespace: "ns" }, tiers)
        const b = yield* buildCache({ namespace: "ns" }, tiers)
        yield* a.set("users:1", Schema.String, "v1", { tags: ["users", "team:7"] })
        yield* a.set("posts:1", Schema.String, "p", { tags: ["posts"] })
        yield* a.set("plain", Schema.String, "x")
        yield* TestClock.adjust(1)
        yield* b.invalidateTags(["team:7"])
        assert.deepStrictEqual(yield* a.get("users:1", Schema.String), Option.none())
        assert.deepStrictEqual(yield* a.get("posts:1", Schema.String), Option.some("p"))
        assert.deepStrictEqual(yield* a.get("plain", Schema.String), Option.some("x"))
        yield* TestClock.adjust(1)
        yield* a.set("users:1", Schema.String, "v2", { tags: ["users", "team:7"] })
        assert.deepStrictEqual(yield* b.get("users:1", Schema.String), Option.some("v2"))
        const stats = yield* a.stats
        assert.strictEqual(stats.decodeFailures, 0)
        const raw = yield* redis
        const pttl = yield* promise(() => raw.pttl(`${prefix}:~tag:ns:team:7`))
        assert.isTrue(pttl > 86_000_000 && pttl <= 86_400_000, `tag record pttl ${pttl}`)
      }).pipe(Effect.provide(standalone())))

    it.scoped("an entry written in the same millisecond as the invalidation counts as invalidated", () =>
      Effect.gen(function*() {
        const tiers = RedisTier.layer({ keyPrefix: unique("same-ms") })
        const cache = yield* buildCache({ namespace: "ns" }, tiers)
        yield* cache.set("k", Schema.String, "v", { tags: ["t"] })
        yield* cache.invalidateTags(["t"])
        assert.deepStrictEqual(yield* cache.get("k", Schema.String), Option.none())
      }).pipe(Effect.provide(standalone())))

    it.scoped("tag times come from the server's clock (µs), whatever the instance's clock says, and never go back", () =>
      Effect.gen(function*() {
        const prefix = unique("race")
        const tier = yield* buildTier({ keyPrefix: prefix })
        const raw = yield* redis
        const [seconds, micros] = yield* promise(() => raw.time())
        yield* tier.invalidateTags(["t"], 5_000_000_000_000) // an instance far ahead
        const first = Number(yield* promise(() => raw.get(`${prefix}:~tag:t`)))
        assert.isAtLeast(first, Number(seconds) * 1e6 + Number(micros))
        assert.isBelow(first, (Number(seconds) + 60) * 1e6)
        yield* promise(() => raw.set(`${prefix}:~tag:t`, "9000000000000000")) // a later time, from a racing instance
        yield* tier.invalidateTags(["t"], 1_000)
        assert.strictEqual(yield* promise(() => raw.get(`${prefix}:~tag:t`)), "9000000000000000")
      }).pipe(Effect.provide(standalone())))

    it.scoped("entries that carry tags live at most tagTtl in Redis", () =>
      Effect.gen(function*() {
        const prefix = unique("tag-ttl")
        const cache = yield* buildCache(
          { namespace: "ns" },
          RedisTier.layer({ keyPrefix: prefix, tagTtl: "2 seconds" })
        )
        yield* cache.set("tagged", Schema.Number, 1, { ttl: "1 hour", tags: ["t"] })
        yield* cache.set("plain", Schema.Number, 1, { ttl: "1 hour" })
        const raw = yield* redis
        assert.isTrue((yield* promise(() => raw.pttl(`${prefix}:ns:tagged`))) <= 2_000)
        assert.isTrue((yield* promise(() => raw.pttl(`${prefix}:ns:plain`))) > 3_500_000)
      }).pipe(Effect.provide(standalone())))
  })

  describe("decode failures are counted misses", () => {
    it.scoped("corrupt bytes, a foreign value, an old envelope version, a changed schema, a moved value", () =>
      Effect.gen(function*() {
        const prefix = unique("decode")
        const cache = yield* buildCache({ namespace: "ns" }, RedisTier.layer({ keyPrefix: prefix }))
        const raw = yield* redis
        const key = (name: string) => `${prefix}:ns:${name}`
        const V1 = Schema.Struct({ id: Schema.Number, name: Schema.String })
        const V2 = Schema.Struct({ id: Schema.String, name: Schema.String })

        yield* cache.set("corrupt", V1, { id: 1, name: "a" })
        const corrupt = (yield* promise(() => raw.getBuffer(key("corrupt"))))!
        corrupt.fill(0xff, corrupt.length - 12, corrupt.length - 8) // the payload's end, before the stamp
        yield* promise(() => raw.set(key("corrupt"), corrupt))

        yield* promise(() => raw.set(key("foreign"), "{\"id\":1,\"name\":\"written by someone else\"}"))

        yield* cache.set("old", V1, { id: 1, name: "a" })
        const old = (yield* promise(() => raw.getBuffer(key("old"))))!
        old[2] = 1 // format 1, before the negative flag
        yield* promise(() => raw.set(key("old"), old))

        yield* cache.set("shape", V1, { id: 1, name: "a" })

        yield* cache.set("original", V1, { id: 1, name: "a" })
        yield* promise(() => raw.copy(key("original"), key("moved")))

        for (const name of ["corrupt", "foreign", "old", "moved"]) {
          assert.deepStrictEqual(yield* cache.get(name, V1), Option.none(), name)
        }
        assert.deepStrictEqual(yield* cache.get("shape", V2), Option.none())
        const stats = yield* cache.stats
        assert.strictEqual(stats.decodeFailures, 5)
        assert.strictEqual(stats.tierErrors, 0)

        // The next compute overwrites the bad bytes.
        assert.deepStrictEqual(yield* cache.getOrCompute("corrupt", V1, Effect.succeed({ id: 2, name: "b" })), {
          id: 2,
          name: "b"
        })
        assert.deepStrictEqual(yield* cache.get("corrupt", V1), Option.some({ id: 2, name: "b" }))
      }).pipe(Effect.provide(standalone())))

    it.scoped("a key holding another Redis type reads as a plain miss", () =>
      Effect.gen(function*() {
        const prefix = unique("wrongtype")
        const cache = yield* buildCache({ namespace: "ns" }, RedisTier.layer({ keyPrefix: prefix }))
        const raw = yield* redis
        yield* promise(() => raw.hset(`${prefix}:ns:hash`, "field", "value"))
        assert.deepStrictEqual(yield* cache.get("hash", Schema.String), Option.none())
        const stats = yield* cache.stats
        assert.strictEqual(stats.tierErrors, 0)
        assert.deepStrictEqual(yield* cache.getOrCompute("hash", Schema.String, Effect.succeed("mine")), "mine")
        assert.deepStrictEqual(yield* cache.get("hash", Schema.String), Option.some("mine"))
      }).pipe(Effect.provide(standalone())))
  })

  describe("clear", () => {
    it.scoped("removes this namespace's keys in batches (SCAN + UNLINK), and nothing else", () =>
      Effect.gen(function*() {
        const prefix = unique("clear")
        const tier = yield* buildTier({ keyPrefix: prefix })
        const other = yield* buildTier({ keyPrefix: `${prefix}x` })
        const now = yield* Clock.currentTimeMillis
        const many = Array.from({ length: 2_500 }, (_, i) => [`alpha:${i}`, entry(i, Schema.Number, now)] as const)
        yield* tier.setMany(many)
        yield* tier.setMany([["beta:1", entry(1, Schema.Number, now)], ["alphabet:1", entry(1, Schema.Number, now)]])
        yield* other.set("alpha:1", entry(1, Schema.Number, now))
        yield* tier.invalidateTags(["t"], now)
        const recorder = recordCommands(yield* client)
        yield* tier.clear("alpha:")
        recorder.restore()
        assert.isFalse(recorder.names.includes("keys") || recorder.names.includes("flushdb"))
        assert.isTrue(recorder.names.filter((name) => name === "scan").length > 1)
        const raw = yield* redis
        // fence keys and the clear marker fence off older computes for the fence window (fence.ts), then expire
        const left = (yield* promise(() => raw.keys(`${prefix}*`))).filter((key) => !/~(fence|clear):/.test(key))
        assert.deepStrictEqual(left.sort(), [
          `${prefix}:alphabet:1`,
          `${prefix}:beta:1`,
          `${prefix}:~tag:t`,
          `${prefix}x:alpha:1`
        ])
      }).pipe(Effect.provide(standalone())))

    it.scoped("glob characters in the prefix match only themselves", () =>
      Effect.gen(function*() {
        const base = unique("glob")
        const starred = yield* buildCache({ namespace: "ns" }, RedisTier.layer({ keyPrefix: `${base}*?` }))
        const plain = yield* buildCache({ namespace: "ns" }, RedisTier.layer({ keyPrefix: `${base}ab` }))
        yield* starred.set("k", Schema.Number, 1)
        yield* plain.set("k", Schema.Number, 2)
        yield* starred.clear
        assert.deepStrictEqual(yield* starred.get("k", Schema.Number), Option.none())
        assert.deepStrictEqual(yield* plain.get("k", Schema.Number), Option.some(2))
      }).pipe(Effect.provide(standalone())))
  })
})
