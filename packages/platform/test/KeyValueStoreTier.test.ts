import * as KeyValueStore from "@effect/platform/KeyValueStore"
import { assert, describe, it } from "@effect/vitest"
import { Cache, CacheTier } from "@layercake/core"
import * as Conformance from "@layercake/core/testing/conformance"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import * as KeyValueStoreTier from "../src/KeyValueStoreTier.js"

Conformance.run(
  "KeyValueStoreTier (layerMemory)",
  () => KeyValueStoreTier.layer().pipe(Layer.provide(KeyValueStore.layerMemory)),
  { kind: "shared" }
)

describe("KeyValueStoreTier", () => {
  const provide = Effect.provide(
    KeyValueStoreTier.layer().pipe(Layer.provideMerge(KeyValueStore.layerMemory))
  )
  const entry = (now: number, tags: ReadonlyArray<string> = []): CacheTier.Entry<string> => ({
    value: "v",
    schema: Schema.String,
    createdAt: now,
    freshUntil: now + 1000,
    staleUntil: now + 2000,
    tags,
    negative: false
  })

  it.effect("corrupt or foreign text is a DecodeFailure", () =>
    Effect.gen(function*() {
      const tier = yield* CacheTier.CacheTier
      const store = yield* KeyValueStore.KeyValueStore
      yield* store.set("~entry:k", "{not json")
      const result = yield* tier.get("k", Schema.String)
      assert.instanceOf(result, CacheTier.DecodeFailure)
    }).pipe(provide))

  it.effect("an entry past staleUntil is absent and removed", () =>
    Effect.gen(function*() {
      const tier = yield* CacheTier.CacheTier
      const store = yield* KeyValueStore.KeyValueStore
      yield* tier.set("k", entry(0))
      yield* TestClock.adjust("2 seconds")
      assert.isUndefined(yield* tier.get("k", Schema.String))
      assert.isTrue(Option.isNone(yield* store.get("~entry:k")))
    }).pipe(provide))

  it.effect("a tag invalidation hides entries created at or before it", () =>
    Effect.gen(function*() {
      const tier = yield* CacheTier.CacheTier
      yield* tier.set("k", entry(0, ["t"]))
      yield* tier.invalidateTags(["t"], 0)
      assert.isUndefined(yield* tier.get("k", Schema.String))
    }).pipe(provide))
})

describe("KeyValueStoreTier: values JSON would change", () => {
  it.effect("are refused with an Encode error, and the key's older entry is gone; through a Cache, set fails with a ParseError", () =>
    Effect.gen(function*() {
      const tier = yield* CacheTier.CacheTier
      const store = yield* KeyValueStore.KeyValueStore
      const entry = (value: number): CacheTier.Entry<number> => ({
        value,
        schema: Schema.Number,
        createdAt: 0,
        freshUntil: 1000,
        staleUntil: 2000,
        tags: [],
        negative: false
      })
      yield* tier.set("k", entry(1))
      const error = yield* Effect.flip(tier.set("k", entry(Number.NaN)))
      assert.strictEqual(error.reason, "Encode")
      assert.include(String(error.cause), "JSON")
      assert.isTrue(Option.isNone(yield* store.get("~entry:k")))
      const cache = yield* Cache.make({ namespace: "json" }).pipe(Effect.provideService(CacheTier.CacheTier, tier))
      const failure = yield* Effect.flip(cache.set("n", Schema.Number, Number.POSITIVE_INFINITY))
      assert.strictEqual(failure._tag, "ParseError")
      assert.deepStrictEqual(yield* cache.get("n", Schema.Number), Option.none())
    }).pipe(
      Effect.scoped,
      Effect.provide(KeyValueStoreTier.layer().pipe(Layer.provideMerge(KeyValueStore.layerMemory)))
    ))
})
