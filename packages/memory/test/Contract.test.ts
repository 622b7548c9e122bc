/** MemoryTier under the core contract of issue 8: options, Config, stacking, Schema code that throws. */
import { assert, describe, it } from "@effect/vitest"
import { Cache, CacheTier } from "@layercake/core"
import { LocalTier } from "@layercake/core/testing"
import { MemoryTier } from "@layercake/memory"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

const build = (layer: Layer.Layer<Cache.Cache>) => Effect.map(Layer.build(layer), Context.get(Cache.Cache))

describe("MemoryTier contract", () => {
  it.effect("a bad option is a defect naming the option, its value and what is accepted", () =>
    Effect.gen(function*() {
      for (
        const [options, expected] of [
          [{ maxEntries: 0 }, `MemoryTier option "maxEntries" is invalid: got 0, expected a whole number from 1`],
          [{ maxEntries: 1.5 }, `"maxEntries" is invalid: got 1.5`],
          [{ maxBytes: -1 }, `MemoryTier option "maxBytes" is invalid: got -1, expected a number above zero`],
          [{ maxEntryBytes: 0 }, `"maxEntryBytes" is invalid: got 0`],
          [{ maxTtl: "soon" }, `MemoryTier option "maxTtl" is invalid: got "soon", expected a Duration`],
          [{ name: "" }, `MemoryTier option "name" is invalid: got ""`],
          [{ policy: "lfu" }, `MemoryTier option "policy" is invalid: got "lfu", expected one of "tinylfu", "lru"`]
        ] as const
      ) {
        const exit = yield* Effect.exit(MemoryTier.make(options as MemoryTier.Options))
        assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause))
        assert.include(Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "", expected)
      }
    }))

  it.scoped("layerConfig reads its options from a ConfigProvider", () =>
    Effect.gen(function*() {
      const layer = MemoryTier.layerConfig({
        maxEntries: Config.integer("L1_ENTRIES"),
        name: Config.string("L1_NAME"),
        policy: Config.literal("tinylfu", "lru")("L1_POLICY")
      })
      const context = yield* Layer.build(
        Layer.orDie(layer).pipe(
          Layer.provide(
            Layer.setConfigProvider(
              ConfigProvider.fromMap(new Map([["L1_ENTRIES", "2"], ["L1_NAME", "hot"], ["L1_POLICY", "lru"]]))
            )
          )
        )
      )
      const tier = Context.get(context, CacheTier.CacheTier)
      assert.strictEqual(tier.name, "hot")
      const entry = (value: string): CacheTier.Entry<string> => ({
        value,
        schema: Schema.String,
        createdAt: 0,
        freshUntil: 60_000,
        staleUntil: 60_000,
        tags: [],
        negative: false
      })
      for (const key of ["a", "b", "c"]) yield* tier.set(key, entry(key))
      assert.strictEqual(yield* tier.get("a", Schema.String), undefined, "lru: the third write evicted the first")
    }))

  it.scoped("two memory tiers stack as memory and memory#2; a hit in the second is promoted into the first", () =>
    Effect.gen(function*() {
      const cache = yield* build(
        Cache.layer({ namespace: "n" }).pipe(
          Layer.provide(
            CacheTier.stack(
              MemoryTier.layer({ maxEntries: 1_000, policy: "lru" }),
              MemoryTier.layer({ maxEntries: 100_000 })
            )
          )
        )
      )
      yield* cache.set("a", Schema.String, "A")
      // 1 000 later writes evict "a" from the small tier only
      for (let i = 0; i < 1_000; i++) yield* cache.set(`b${i}`, Schema.String, "B")
      assert.deepStrictEqual(yield* cache.get("a", Schema.String), Option.some("A"))
      const stats = yield* cache.stats
      assert.deepStrictEqual(stats.perTier.map((tier) => [tier.name, tier.hits, tier.misses]), [
        ["memory", 0, 1],
        ["memory#2", 1, 0]
      ])
      assert.deepStrictEqual(yield* cache.get("a", Schema.String), Option.some("A"))
      assert.strictEqual((yield* cache.stats).perTier[0].hits, 1, "the second read is an L1 hit")
    }))

  it.scoped("promotion into a bytes-bounded tier of a value whose encode throws does not crash the read", () =>
    Effect.gen(function*() {
      const Exploding = Schema.transform(Schema.String, Schema.String, {
        strict: true,
        decode: (s) => s,
        encode: () => {
          throw new Error("encode exploded")
        }
      })
      const lower = LocalTier.make({ name: "lower" })
      const cache = yield* build(
        Cache.layer({ namespace: "n" }).pipe(
          Layer.provide(CacheTier.stack(MemoryTier.layer({ maxBytes: 10_000 }), lower.layer))
        )
      )
      lower.entries.set("n:k", {
        value: "v",
        schema: Exploding,
        createdAt: 0,
        freshUntil: 60_000,
        staleUntil: 60_000,
        tags: [],
        negative: false
      })
      assert.deepStrictEqual(yield* cache.get("k", Exploding), Option.some("v"))
      assert.strictEqual((yield* cache.stats).tierErrors, 0)
    }))

  it.scoped("an L1 read with another schema whose decode throws is a counted decode failure", () =>
    Effect.gen(function*() {
      const cache = yield* build(Cache.layer({ namespace: "n" }).pipe(Layer.provide(MemoryTier.layer())))
      const Url = Schema.transform(Schema.String, Schema.Unknown, {
        strict: true,
        decode: (s) => new URL(s),
        encode: String
      })
      yield* cache.set("link", Schema.String, "not a url")
      assert.isTrue(Option.isNone(yield* cache.get("link", Url)))
      assert.strictEqual((yield* cache.stats).decodeFailures, 1)
    }))
})
