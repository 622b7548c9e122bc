import { assert, describe, it } from "@effect/vitest"
import { Cache, CacheTier } from "@layercake/core"
import { SharedTier } from "@layercake/core/testing"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as fc from "effect/FastCheck"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import { MemoryTier } from "../src/index.js"
import { type Input, resolve } from "../src/internal/options.js"
import { ENTRY_OVERHEAD_BYTES } from "../src/internal/size.js"
import { Store } from "../src/internal/store.js"
import { fromStore } from "../src/internal/tier.js"

const User = Schema.Struct({ id: Schema.Number, name: Schema.String })
const UserId = Schema.Struct({ id: Schema.Number })
const UserWithStringId = Schema.Struct({ id: Schema.String })

const entry = <A>(
  value: A,
  schema: Schema.Schema<A, any>,
  overrides: Partial<CacheTier.Entry<A>> = {}
): CacheTier.Entry<A> => ({
  value,
  schema,
  createdAt: 0,
  freshUntil: 1_000,
  staleUntil: 2_000,
  tags: [],
  negative: false,
  ...overrides
})

/** A tier together with its store, to look at what it keeps. */
const inspectable = (input: Input = {}) => {
  const options = resolve(input)
  if (typeof options === "string") throw new Error(options)
  const store = new Store(options)
  return { store, tier: fromStore(store, options) }
}

const getValue = (tier: CacheTier.CacheTier, key: string) =>
  Effect.map(
    tier.get(key, Schema.Unknown),
    (result) => (result === undefined || result instanceof CacheTier.DecodeFailure ? undefined : result.value)
  )

const has = (tier: CacheTier.CacheTier, key: string) =>
  Effect.map(tier.get(key, Schema.Unknown), (result) => result !== undefined)

const captureWarnings = () => {
  const warnings: Array<string> = []
  const logger = Logger.make(({ message }) => {
    warnings.push(Array.isArray(message) ? message.join(" ") : String(message))
  })
  return { warnings, layer: Logger.replace(Logger.defaultLogger, logger) }
}

describe("MemoryTier", () => {
  describe("construction", () => {
    it.effect("layer provides a local tier named memory by default", () =>
      Effect.gen(function*() {
        const tier = yield* CacheTier.CacheTier
        assert.strictEqual(tier.name, "memory")
        assert.strictEqual(tier.kind, "local")
        assert.strictEqual(tier.maxTtl, undefined)
        assert.deepStrictEqual(CacheTier.membersOf(tier), [tier])
        assert.isFunction(tier.sync?.get)
      }).pipe(Effect.provide(MemoryTier.layer())))

    it.effect("takes name and maxTtl (a Duration) from the options", () =>
      Effect.gen(function*() {
        const tier = yield* MemoryTier.make({ name: "l1", maxTtl: "2 seconds" })
        assert.strictEqual(tier.name, "l1")
        assert.strictEqual(tier.maxTtl, 2_000)
      }))

    it.effect("bounds the entry count by default", () =>
      Effect.sync(() => {
        const options = resolve({})
        assert.strictEqual(typeof options === "string" ? options : options.maxEntries, 10_000)
      }))

    const invalid: ReadonlyArray<readonly [MemoryTier.Options, string]> = [
      [{ maxEntries: 0 }, "maxEntries"],
      [{ maxEntries: -5 }, "maxEntries"],
      [{ maxEntries: Number.NaN }, "maxEntries"],
      [{ maxEntries: 1.5 }, "maxEntries"],
      [{ maxEntries: Infinity }, "maxEntries"],
      [{ maxBytes: 0 }, "maxBytes"],
      [{ maxBytes: Number.NaN }, "maxBytes"],
      [{ maxEntryBytes: -1 }, "maxEntryBytes"],
      [{ maxTtl: 0 }, "maxTtl"],
      [{ maxTtl: "soon" as any }, "maxTtl"],
      [{ name: "" }, "name"],
      [{ policy: "lfu" as any }, "policy"]
    ]
    it.effect.each(invalid)("dies naming the bad option: %j", ([options, name]) =>
      Effect.gen(function*() {
        const exit = yield* Effect.exit(MemoryTier.make(options))
        assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause))
        if (Exit.isFailure(exit)) assert.include(Cause.pretty(exit.cause), name)
      }))
  })

  describe("get and set", () => {
    it.effect("returns the kept value itself for the same schema (no decoding)", () =>
      Effect.gen(function*() {
        const tier = yield* MemoryTier.make()
        const user = { id: 1, name: "Ada" }
        const written = entry(user, User, { tags: ["users"], createdAt: 0, freshUntil: 500, staleUntil: 900 })
        yield* tier.set("user:1", written)
        const read = yield* tier.get("user:1", User)
        assert.deepStrictEqual(read, written)
        assert.strictEqual((read as CacheTier.Entry<typeof user>).value, user)
        assert.strictEqual(yield* tier.get("user:2", User), undefined)
      }))

    it.effect("converts through the encoded form for another schema, and a mismatch is a DecodeFailure", () =>
      Effect.gen(function*() {
        const tier = yield* MemoryTier.make()
        yield* tier.set("user:1", entry({ id: 1, name: "Ada" }, User))
        const narrowed = yield* tier.get("user:1", UserId)
        assert.isFalse(narrowed instanceof CacheTier.DecodeFailure)
        const converted = narrowed as CacheTier.Entry<{ readonly id: number }>
        assert.deepStrictEqual(converted.value, { id: 1 })
        assert.strictEqual(converted.schema, UserId)
        const mismatch = yield* tier.get("user:1", UserWithStringId)
        assert.instanceOf(mismatch, CacheTier.DecodeFailure)
        assert.strictEqual((mismatch as CacheTier.DecodeFailure).key, "user:1")
        // the kept entry is untouched by either read
        const again = yield* tier.get("user:1", User)
        assert.deepStrictEqual((again as CacheTier.Entry<unknown>).value, { id: 1, name: "Ada" })
      }))

    it.effect("returns an entry until just before staleUntil, and deletes it at staleUntil", () =>
      Effect.gen(function*() {
        const { store, tier } = inspectable()
        yield* tier.set("k", entry("v", Schema.String, { freshUntil: 1_000, staleUntil: 2_000 }))
        yield* TestClock.adjust(1_999)
        assert.strictEqual(yield* getValue(tier, "k"), "v")
        yield* TestClock.adjust(1)
        assert.strictEqual(yield* tier.get("k", Schema.String), undefined)
        assert.strictEqual(store.size, 0)
      }))

    it.effect("writing an entry that is already gone deletes the key", () =>
      Effect.gen(function*() {
        const { store, tier } = inspectable()
        yield* TestClock.adjust(1_000)
        yield* tier.set("k", entry("old", Schema.String, { staleUntil: 5_000 }))
        yield* tier.set("k", entry("new", Schema.String, { freshUntil: 1_000, staleUntil: 1_000 }))
        assert.strictEqual(yield* tier.get("k", Schema.String), undefined)
        yield* tier.set("gone", entry("v", Schema.String, { freshUntil: 10, staleUntil: 10 }))
        assert.strictEqual(store.size, 0)
      }))

    it.effect("keeps negative entries, served only to a reader with an error schema", () =>
      Effect.gen(function*() {
        const tier = yield* MemoryTier.make()
        const Failure = Schema.Struct({ reason: Schema.String })
        const failure = { reason: "boom" }
        yield* tier.set("k", entry(failure, Failure as Schema.Schema<any, any>, { negative: true }))
        assert.strictEqual(yield* tier.get("k", UserId), undefined)
        const read = (yield* tier.get("k", UserId, Failure)) as CacheTier.Entry<unknown>
        assert.isTrue(read.negative)
        assert.strictEqual(read.value, failure)
        const other = (yield* tier.get("k", UserId, Schema.Struct({ reason: Schema.String }))) as CacheTier.Entry
        assert.deepStrictEqual(other.value, failure)
      }))

    it.effect("caps lifetimes to maxTtl from now, never extending them", () =>
      Effect.gen(function*() {
        const tier = yield* MemoryTier.make({ maxTtl: 1_000 })
        yield* TestClock.adjust(100)
        yield* tier.set("long", entry("v", Schema.String, { createdAt: 100, freshUntil: 5_000, staleUntil: 9_000 }))
        yield* tier.set("short", entry("v", Schema.String, { createdAt: 100, freshUntil: 300, staleUntil: 600 }))
        yield* tier.set("stale-long", entry("v", Schema.String, { createdAt: 100, freshUntil: 700, staleUntil: 9_000 }))
        const long = (yield* tier.get("long", Schema.String)) as CacheTier.Entry<string>
        assert.deepStrictEqual([long.createdAt, long.freshUntil, long.staleUntil], [100, 1_100, 1_100])
        const short = (yield* tier.get("short", Schema.String)) as CacheTier.Entry<string>
        assert.deepStrictEqual([short.freshUntil, short.staleUntil], [300, 600])
        const staleLong = (yield* tier.get("stale-long", Schema.String)) as CacheTier.Entry<string>
        assert.deepStrictEqual([staleLong.freshUntil, staleLong.staleUntil], [700, 1_100])
        yield* TestClock.adjust(1_000)
        assert.isFalse(yield* has(tier, "long"))
      }))

    it.effect("getMany and setMany work key by key, in order", () =>
      Effect.gen(function*() {
        const tier = yield* MemoryTier.make()
        yield* tier.setMany([
          ["a", entry("A", Schema.String)],
          ["b", entry("B", Schema.String)],
          ["gone", entry("G", Schema.String, { staleUntil: 0 })]
        ])
        const results = yield* tier.getMany(["b", "missing", "a", "gone"], Schema.String)
        assert.deepStrictEqual(
          results.map((
            result
          ) => (result === undefined || result instanceof CacheTier.DecodeFailure ? result : result.value)),
          ["B", undefined, "A", undefined]
        )
      }))

    it.effect("delete removes only the given keys", () =>
      Effect.gen(function*() {
        const { store, tier } = inspectable()
        yield* tier.setMany(["a", "b", "c"].map((key) => [key, entry(key, Schema.String)] as const))
        yield* tier.delete(["a", "c", "missing"])
        assert.isFalse(yield* has(tier, "a"))
        assert.isTrue(yield* has(tier, "b"))
        assert.isFalse(yield* has(tier, "c"))
        assert.strictEqual(store.size, 1)
      }))
  })

  describe("bounds", () => {
    it.effect("lru: evicts the least recently used entry; get, sync.get and overwrite count as use", () =>
      Effect.gen(function*() {
        const { store, tier } = inspectable({ maxEntries: 3, policy: "lru" })
        for (const key of ["a", "b", "c"]) yield* tier.set(key, entry(key, Schema.String))
        yield* tier.get("a", Schema.String)
        yield* tier.set("d", entry("d", Schema.String))
        assert.deepStrictEqual(store.keysByRecency(), ["c", "a", "d"])
        assert.strictEqual((tier.sync!.get("c", Schema.String, undefined, 0) as CacheTier.Entry)?.value, "c")
        yield* tier.set("a", entry("a2", Schema.String))
        assert.deepStrictEqual(store.keysByRecency(), ["d", "c", "a"])
        yield* tier.set("e", entry("e", Schema.String))
        assert.deepStrictEqual(store.keysByRecency(), ["c", "a", "e"])
        assert.isFalse(yield* has(tier, "d"))
        assert.strictEqual(yield* getValue(tier, "a"), "a2")
      }))

    it.effect("lru: 100k inserts stay within maxEntries, keeping the most recent", () =>
      Effect.gen(function*() {
        const { store, tier } = inspectable({ maxEntries: 1_000, policy: "lru" })
        for (let i = 0; i < 100_000; i++) yield* tier.set(`k${i}`, entry(i, Schema.Number))
        assert.strictEqual(store.size, 1_000)
        assert.strictEqual(yield* getValue(tier, "k99999"), 99_999)
        assert.strictEqual(yield* getValue(tier, "k99000"), 99_000)
        assert.isFalse(yield* has(tier, "k98999"))
        assert.isFalse(yield* has(tier, "k0"))
      }))

    it.effect("lru: reuses freed slots: churn never loses or mixes up entries", () =>
      Effect.gen(function*() {
        const { store, tier } = inspectable({ maxEntries: 8, policy: "lru" })
        for (let round = 0; round < 50; round++) {
          const keys = Array.from({ length: 8 }, (_, i) => `r${round}:${i}`)
          for (const [i, key] of keys.entries()) {
            yield* tier.set(key, entry(key, Schema.String, { staleUntil: 2_000 + i }))
          }
          for (const [i, key] of keys.entries()) {
            const found = (yield* tier.get(key, Schema.String)) as CacheTier.Entry<string>
            assert.deepStrictEqual([found.value, found.staleUntil], [key, 2_000 + i])
          }
          yield* tier.delete(keys.filter((_, i) => i % 3 !== 0))
        }
        assert.strictEqual(store.size, 3)
      }))

    it.effect("drops expired entries at the LRU end when writing", () =>
      Effect.gen(function*() {
        const { store, tier } = inspectable()
        yield* tier.set("short", entry("v", Schema.String, { freshUntil: 10, staleUntil: 10 + 0.5 }))
        yield* tier.set("long", entry("v", Schema.String))
        yield* TestClock.adjust(11)
        yield* tier.set("new", entry("v", Schema.String))
        assert.strictEqual(store.size, 2)
      }))

    it.effect("estimates an entry as (key + encoded JSON) * 2 bytes + overhead", () =>
      Effect.gen(function*() {
        const { store, tier } = inspectable({ maxBytes: 10_000 })
        yield* tier.set("k", entry("abc", Schema.String))
        assert.strictEqual(store.bytes, (1 + "\"abc\"".length) * 2 + ENTRY_OVERHEAD_BYTES)
        // the encoded form is measured, not the decoded value
        yield* tier.set("n", entry(12, Schema.NumberFromString))
        assert.strictEqual(store.bytes, 112 + (1 + "\"12\"".length) * 2 + ENTRY_OVERHEAD_BYTES)
        yield* tier.set("k", entry("abcd", Schema.String))
        assert.strictEqual(store.bytes, 114 + 110)
        yield* tier.delete(["k", "n"])
        assert.strictEqual(store.bytes, 0)
      }))

    it.effect("lru: keeps the sum of estimated sizes within maxBytes, evicting least recently used", () =>
      Effect.gen(function*() {
        const maxBytes = 5_000
        const { store, tier } = inspectable({ maxBytes, policy: "lru" })
        for (let i = 0; i < 500; i++) {
          yield* tier.set(`k${i}`, entry("x".repeat((i * 37) % 400), Schema.String))
          assert.isAtMost(store.bytes, maxBytes)
        }
        assert.isAbove(store.size, 1)
        assert.isTrue(yield* has(tier, "k499"))
        assert.isFalse(yield* has(tier, "k0"))
      }))

    it.effect("does not keep an entry over maxEntryBytes (or maxBytes), and drops the key's older entry", () =>
      Effect.gen(function*() {
        const { store, tier } = inspectable({ maxEntryBytes: 300, maxBytes: 1_000 })
        yield* tier.set("k", entry("small", Schema.String))
        yield* tier.set("k", entry("x".repeat(100), Schema.String))
        assert.isFalse(yield* has(tier, "k"))
        yield* tier.set("ok", entry("x".repeat(90), Schema.String))
        assert.isTrue(yield* has(tier, "ok"))
        const { store: small, tier: smallTier } = inspectable({ maxBytes: 200 })
        yield* smallTier.set("big", entry("x".repeat(100), Schema.String))
        assert.strictEqual(small.size, 0)
        assert.strictEqual(store.bytes, (2 + 92) * 2 + ENTRY_OVERHEAD_BYTES)
      }))

    it.effect("an entry that cannot be measured is not kept and logs a warning, never failing", () => {
      const { layer, warnings } = captureWarnings()
      return Effect.gen(function*() {
        const { store, tier } = inspectable({ maxBytes: 10_000 })
        yield* tier.set("k", entry(1, Schema.Number))
        yield* tier.set("k", entry("not a number" as unknown as number, Schema.Number))
        assert.strictEqual(store.size, 0)
        assert.strictEqual(warnings.length, 1)
        assert.include(warnings[0], "\"k\"")
        const circular: { self?: unknown } = {}
        circular.self = circular
        yield* tier.set("neg", entry(circular, Schema.Unknown, { negative: true }))
        assert.strictEqual(store.size, 0)
        assert.strictEqual(warnings.length, 2)
        yield* tier.set("neg", entry(new Error("boom"), Schema.Number as Schema.Schema<any, any>, { negative: true }))
        assert.strictEqual(store.size, 1)
      }).pipe(Effect.provide(layer))
    })

    it.effect("does not measure entries without a byte bound", () =>
      Effect.gen(function*() {
        const { store, tier } = inspectable()
        const circular: { self?: unknown } = {}
        circular.self = circular
        yield* tier.set("k", entry(circular, Schema.Unknown))
        assert.strictEqual(store.size, 1)
        assert.strictEqual(store.bytes, 0)
      }))
  })

  describe("invalidation", () => {
    it.effect("invalidateTags deletes every entry carrying one of the tags and cleans the index", () =>
      Effect.gen(function*() {
        const { store, tier } = inspectable()
        yield* tier.set("a", entry("a", Schema.String, { tags: ["t1"] }))
        yield* tier.set("b", entry("b", Schema.String, { tags: ["t1", "t2"] }))
        yield* tier.set("c", entry("c", Schema.String, { tags: ["t2", "t3"] }))
        yield* tier.set("d", entry("d", Schema.String))
        assert.strictEqual(store.indexedTags, 3)
        yield* tier.invalidateTags(["t1", "unknown"], 0)
        assert.isFalse(yield* has(tier, "a"))
        assert.isFalse(yield* has(tier, "b"))
        assert.isTrue(yield* has(tier, "c"))
        assert.isTrue(yield* has(tier, "d"))
        assert.strictEqual(store.indexedTags, 2)
        // overwriting with other tags moves the key in the index
        yield* tier.set("c", entry("c", Schema.String, { tags: ["t4"] }))
        assert.strictEqual(store.indexedTags, 1)
        yield* tier.invalidateTags(["t2", "t3"], 0)
        assert.isTrue(yield* has(tier, "c"))
        yield* tier.delete(["c"])
        assert.strictEqual(store.indexedTags, 0)
      }))

    it.effect("the tag index forgets evicted and expired entries", () =>
      Effect.gen(function*() {
        const { store, tier } = inspectable({ maxEntries: 2, policy: "lru" })
        yield* tier.set("a", entry("a", Schema.String, { tags: ["ta"] }))
        yield* tier.set("b", entry("b", Schema.String, { tags: ["tb"], staleUntil: 100 }))
        yield* tier.set("c", entry("c", Schema.String))
        assert.strictEqual(store.indexedTags, 1)
        yield* TestClock.adjust(100)
        assert.isFalse(yield* has(tier, "b"))
        assert.strictEqual(store.indexedTags, 0)
        // a tag of an evicted key no longer reaches a newer entry of that key
        yield* tier.set("a", entry("a2", Schema.String, { staleUntil: 5_000 }))
        yield* tier.invalidateTags(["ta"], 0)
        assert.strictEqual(yield* getValue(tier, "a"), "a2")
      }))

    it.effect("clear(prefix) deletes only the keys starting with the prefix", () =>
      Effect.gen(function*() {
        const { store, tier } = inspectable()
        for (const key of ["app:1", "app:2", "apple", "other:app:1", "app"]) {
          yield* tier.set(key, entry(key, Schema.String, { tags: ["t"] }))
        }
        yield* tier.clear("app:")
        assert.deepStrictEqual(store.keysByRecency(), ["apple", "other:app:1", "app"])
        yield* tier.clear("")
        assert.strictEqual(store.size, 0)
        assert.strictEqual(store.indexedTags, 0)
        yield* tier.set("again", entry("v", Schema.String))
        assert.strictEqual(yield* getValue(tier, "again"), "v")
      }))
  })

  describe("sync access", () => {
    it.effect("sync.get answers as get: the kept entry whatever its freshness, until staleUntil", () =>
      Effect.gen(function*() {
        const { store, tier } = inspectable()
        const read = tier.sync!.get
        const user = { id: 1, name: "Ada" }
        const NotFound = Schema.Struct({ _tag: Schema.Literal("NotFound") })
        yield* tier.set("u", entry(user, User, { createdAt: 0, freshUntil: 1_000, staleUntil: 2_000 }))
        yield* tier.set("neg", entry({ _tag: "NotFound" } as any, NotFound as any, { negative: true }))
        assert.strictEqual((read("u", User, undefined, 0) as CacheTier.Entry).value, user)
        const other = read("u", Schema.Struct({ id: Schema.Number, name: Schema.String }), undefined, 0)
        assert.deepStrictEqual((other as CacheTier.Entry).value, user)
        assert.notStrictEqual((other as CacheTier.Entry).value, user, "another schema converts")
        assert.strictEqual(read("missing", User, undefined, 0), undefined)
        assert.strictEqual(read("neg", User, undefined, 0), undefined, "a cached failure is a miss without errorSchema")
        assert.deepStrictEqual((read("neg", User, NotFound, 0) as CacheTier.Entry).value, { _tag: "NotFound" })
        assert.strictEqual((read("u", User, undefined, 1_500) as CacheTier.Entry).freshUntil, 1_000)
        assert.strictEqual(store.size, 2)
        assert.strictEqual(read("u", User, undefined, 2_000), undefined)
        assert.strictEqual(store.size, 1, "an expired entry is deleted on sight")
        assert.deepStrictEqual(
          read("u", User, undefined, 0),
          yield* tier.get("u", User),
          "get and sync.get agree"
        )
      }))

    it.effect("a read with another schema whose decode throws is a DecodeFailure, not a crash", () =>
      Effect.gen(function*() {
        const { tier } = inspectable()
        const Throwing = Schema.transform(Schema.String, Schema.Unknown, {
          strict: true,
          decode: (s) => new URL(s),
          encode: String
        })
        yield* tier.set("a", entry("not a url", Schema.String))
        assert.instanceOf(tier.sync!.get("a", Throwing, undefined, 0), CacheTier.DecodeFailure)
        assert.instanceOf(yield* tier.get("a", Throwing), CacheTier.DecodeFailure)
      }))
  })

  it.effect("serves the Cache's L1 hits without computing or decoding", () =>
    Effect.gen(function*() {
      let computes = 0
      const compute = Effect.sync(() => ({ id: ++computes, name: "Ada" }))
      const first = yield* Cache.getOrCompute("user:1", User, compute)
      const second = yield* Cache.getOrCompute("user:1", User, compute)
      assert.strictEqual(second, first)
      assert.strictEqual(computes, 1)
      const stats = yield* Cache.stats
      assert.strictEqual(stats.perTier[0].name, "memory")
      assert.strictEqual(stats.perTier[0].hits, 1)
    }).pipe(Effect.provide(Cache.layer({ namespace: "test" }).pipe(Layer.provide(MemoryTier.layer())))))

  it.effect("in a stack, an L2 hit is promoted synchronously with its remaining lifetime; a value over the byte bound is served, not kept", () => {
    const { layer: logs, warnings } = captureWarnings()
    return Effect.gen(function*() {
      const { store, tier } = inspectable({ maxBytes: 10_000 })
      const l2 = SharedTier.make({ name: "l2" })
      const stacked = CacheTier.stack(Layer.succeed(CacheTier.CacheTier, tier), Layer.succeed(CacheTier.CacheTier, l2))
      const cache = yield* Cache.Cache.pipe(
        Effect.provide(Cache.layer({ namespace: "t" }).pipe(Layer.provide(stacked)))
      )
      yield* l2.set(
        "t:user:1",
        entry({ id: 1, name: "Ada" }, User, { createdAt: 0, freshUntil: 1_000, staleUntil: 2_000 })
      )
      yield* TestClock.adjust(400)
      assert.deepStrictEqual(yield* cache.get("user:1", User), Option.some({ id: 1, name: "Ada" }))
      const kept = store.entryAt(store.lookup("t:user:1", 400)!)
      assert.strictEqual(kept.freshUntil, 1_000)
      assert.strictEqual(kept.staleUntil, 2_000)
      // now an L1 hit: the L2 is not read again
      assert.deepStrictEqual(yield* cache.get("user:1", User), Option.some({ id: 1, name: "Ada" }))
      const stats = yield* cache.stats
      assert.deepStrictEqual(stats.perTier.map((t) => [t.name, t.hits, t.misses]), [["memory", 1, 1], ["l2", 1, 0]])
      // a value over the memory tier's byte bound is served from L2 and not kept; a small one is kept
      const Anything = Schema.Unknown
      yield* l2.set("t:odd", entry({ big: "x" }, Anything, { createdAt: 400, freshUntil: 1_000, staleUntil: 2_000 }))
      const tooBig = { big: "x".repeat(20_000) }
      yield* l2.set("t:big", entry(tooBig, Anything, { createdAt: 400, freshUntil: 1_000, staleUntil: 2_000 }))
      assert.deepStrictEqual(yield* cache.get("big", Anything), Option.some(tooBig))
      assert.strictEqual(store.lookup("t:big", 400), undefined)
      assert.deepStrictEqual(yield* cache.get("odd", Anything), Option.some({ big: "x" }))
      assert.isDefined(store.lookup("t:odd", 400))
      // (the one warning expected is the start-up notice: local copies over a shared tier, no bus)
      assert.deepStrictEqual(warnings.filter((warning) => !warning.includes("without an invalidation bus")), [])
    }).pipe(Effect.provide(logs))
  })

  describe("model", () => {
    type Command =
      | {
        readonly op: "set"
        readonly key: string
        readonly freshFor: number
        readonly staleFor: number
        readonly tag: boolean
      }
      | { readonly op: "get"; readonly key: string }
      | { readonly op: "syncGet"; readonly key: string }
      | { readonly op: "delete"; readonly key: string }
      | { readonly op: "advance"; readonly millis: number }
      | { readonly op: "invalidateTag" }

    const key = fc.integer({ min: 0, max: 79 }).map((n) => `k${n}`)
    const command: fc.Arbitrary<Command> = fc.oneof(
      fc.record({
        op: fc.constant("set" as const),
        key,
        freshFor: fc.integer({ min: 0, max: 100 }),
        staleFor: fc.integer({ min: 0, max: 100 }),
        tag: fc.boolean()
      }),
      fc.record({ op: fc.constant("get" as const), key }),
      fc.record({ op: fc.constant("syncGet" as const), key }),
      fc.record({ op: fc.constant("delete" as const), key }),
      fc.record({ op: fc.constant("advance" as const), millis: fc.integer({ min: 0, max: 120 }) }),
      fc.record({ op: fc.constant("invalidateTag" as const) })
    )

    interface Kept {
      readonly value: { readonly n: number }
      readonly createdAt: number
      readonly freshUntil: number
      readonly staleUntil: number
      readonly tagged: boolean
    }

    type LruCommand =
      | { readonly op: "set"; readonly key: string }
      | { readonly op: "get"; readonly key: string }
      | { readonly op: "syncGet"; readonly key: string }
      | { readonly op: "delete"; readonly key: string }
    const lruKey = fc.integer({ min: 0, max: 11 }).map((n) => `k${n}`)
    const lruCommand: fc.Arbitrary<LruCommand> = fc.record({
      op: fc.constantFrom("set" as const, "get" as const, "syncGet" as const, "delete" as const),
      key: lruKey
    })

    it.effect.prop(
      "lru: evicts like an LRU list",
      { commands: fc.array(lruCommand, { maxLength: 200 }), maxEntries: fc.integer({ min: 1, max: 6 }) },
      ({ commands, maxEntries }) =>
        Effect.gen(function*() {
          const { store, tier } = inspectable({ maxEntries, policy: "lru" })
          // a Map iterates in insertion order: re-inserting a key makes it the most recent
          const model = new Map<string, number>()
          let counter = 0
          for (const command of commands) {
            const kept = model.get(command.key)
            switch (command.op) {
              case "set": {
                const value = counter++
                yield* tier.set(command.key, entry(value, Schema.Number))
                model.delete(command.key)
                if (model.size >= maxEntries) model.delete(model.keys().next().value!)
                model.set(command.key, value)
                break
              }
              case "get":
                assert.strictEqual(yield* getValue(tier, command.key), kept)
                break
              case "syncGet": {
                const found = tier.sync!.get(command.key, Schema.Number, undefined, 0)
                assert.strictEqual(found === undefined ? undefined : (found as CacheTier.Entry).value, kept)
                break
              }
              case "delete":
                yield* tier.delete([command.key])
                model.delete(command.key)
                break
            }
            if (kept !== undefined && (command.op === "get" || command.op === "syncGet")) {
              model.delete(command.key)
              model.set(command.key, kept)
            }
            assert.deepStrictEqual(store.keysByRecency(), Array.from(model.keys()))
          }
        }),
      { fastCheck: { numRuns: 200 } }
    )

    it.effect.prop(
      "behaves like a Map with expiry (no eviction)",
      {
        commands: fc.array(command, { maxLength: 300 }),
        maxTtl: fc.option(fc.integer({ min: 1, max: 150 }), { nil: undefined })
      },
      ({ commands, maxTtl }) =>
        Effect.gen(function*() {
          const { store, tier } = inspectable({ maxEntries: 1_000, maxTtl })
          const model = new Map<string, Kept>()
          const schema = Schema.Struct({ n: Schema.Number })
          let now = 0
          let counter = 0
          const live = (key: string): Kept | undefined => {
            const kept = model.get(key)
            if (kept !== undefined && now >= kept.staleUntil) model.delete(key)
            return kept !== undefined && now < kept.staleUntil ? kept : undefined
          }
          for (const command of commands) {
            switch (command.op) {
              case "set": {
                const value = { n: counter++ }
                const freshUntil = now + command.freshFor
                const staleUntil = freshUntil + command.staleFor
                yield* tier.set(
                  command.key,
                  entry(value, schema, { createdAt: now, freshUntil, staleUntil, tags: command.tag ? ["t"] : [] })
                )
                const cap = maxTtl === undefined ? Infinity : now + maxTtl
                const kept = {
                  value,
                  createdAt: now,
                  freshUntil: Math.min(freshUntil, cap),
                  staleUntil: Math.min(staleUntil, cap),
                  tagged: command.tag
                }
                if (kept.staleUntil > now) model.set(command.key, kept)
                else model.delete(command.key)
                break
              }
              case "get": {
                const expected = live(command.key)
                const actual = yield* tier.get(command.key, schema)
                if (expected === undefined) {
                  assert.strictEqual(actual, undefined)
                } else {
                  const found = actual as CacheTier.Entry<{ readonly n: number }>
                  assert.strictEqual(found.value, expected.value)
                  assert.deepStrictEqual(
                    [found.createdAt, found.freshUntil, found.staleUntil, found.tags.length > 0],
                    [expected.createdAt, expected.freshUntil, expected.staleUntil, expected.tagged]
                  )
                }
                break
              }
              case "syncGet": {
                const kept = live(command.key)
                const found = tier.sync!.get(command.key, schema, undefined, now) as CacheTier.Entry | undefined
                assert.strictEqual(found?.value, kept?.value)
                assert.strictEqual(found?.freshUntil, kept?.freshUntil)
                break
              }
              case "delete":
                yield* tier.delete([command.key])
                model.delete(command.key)
                break
              case "advance":
                yield* TestClock.adjust(command.millis)
                now += command.millis
                break
              case "invalidateTag":
                yield* tier.invalidateTags(["t"], 0)
                for (const [key, kept] of model) if (kept.tagged) model.delete(key)
                break
            }
            // the store drops expired entries at least as eagerly as the model
            assert.isAtMost(store.size, model.size)
          }
          for (const key of model.keys()) live(key)
          for (const key of Array.from({ length: 80 }, (_, n) => `k${n}`)) {
            assert.strictEqual(yield* has(tier, key), model.has(key))
          }
          assert.strictEqual(store.size, model.size)
        }),
      { fastCheck: { numRuns: 200 } }
    )
  })
})
