import { assert, describe, it } from "@effect/vitest"
import { Cache, CacheTier } from "@layercake/core"
import { FaultyTier, LocalTier, SharedTier } from "@layercake/core/testing"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"

const build = (layer: Layer.Layer<Cache.Cache>) => Effect.map(Layer.build(layer), Context.get(Cache.Cache))

/** memory over a shared tier whose calls are counted (FaultyTier counts `getMany` as a `get`). */
const fixture = (options: Partial<Cache.Options> = {}) => {
  const faults = FaultyTier.makeFaults()
  const layer = Cache.layer({ namespace: "batch", ...options }).pipe(
    Layer.provide(CacheTier.stack(LocalTier.make({ name: "l1" }).layer, FaultyTier.layer(faults, SharedTier.layer())))
  )
  return { faults, layer }
}

/** A batched source that records the keys of each call; `missing` keys have no value. */
const source = (missing: ReadonlySet<string> = new Set()) => {
  const calls: Array<ReadonlyArray<string>> = []
  const computeMissing = (keys: ReadonlyArray<string>) =>
    Effect.sync(() => {
      calls.push(keys)
      return keys.filter((key) => !missing.has(key)).map((key) => [key, `value of ${key}`] as const)
    })
  return { calls, computeMissing }
}

const keys = (n: number) => Array.from({ length: n }, (_, i) => `k${i}`)

describe("Cache.getMany", () => {
  it.scoped("reads a batch with one read per tier, in the keys' order", () =>
    Effect.gen(function*() {
      const { faults, layer } = fixture()
      const cache = yield* build(layer)
      yield* cache.set("k1", Schema.String, "one")
      yield* cache.set("k3", Schema.String, "three")
      const before = faults.calls.get
      const values = yield* cache.getMany(["k3", "k2", "k1"], Schema.String)
      assert.deepStrictEqual(values, [Option.some("three"), Option.none(), Option.some("one")])
      assert.strictEqual(faults.calls.get - before, 1, "k1 and k3 are in memory: one read of k2 in the shared tier")
      yield* cache.getMany(keys(100), Schema.String)
      assert.strictEqual(faults.calls.get - before, 2, "100 keys: one getMany on the shared tier")
    }))
})

describe("Cache.getOrComputeMany", () => {
  it.scoped("computes only the missing keys, in one call, and stores them; results in the caller's order", () =>
    Effect.gen(function*() {
      const cache = yield* build(fixture().layer)
      const { calls, computeMissing } = source()
      yield* cache.set("k2", Schema.String, "cached")
      const values = yield* cache.getOrComputeMany(["k3", "k2", "k1", "k3"], Schema.String, computeMissing)
      assert.deepStrictEqual(values, [
        Option.some("value of k3"),
        Option.some("cached"),
        Option.some("value of k1"),
        Option.some("value of k3")
      ])
      assert.deepStrictEqual(calls, [["k3", "k1"]])
      yield* cache.getOrComputeMany(["k1", "k2", "k3"], Schema.String, computeMissing)
      assert.strictEqual(calls.length, 1, "the second batch is all hits")
      assert.deepStrictEqual(yield* cache.get("k1", Schema.String), Option.some("value of k1"))
    }))

  it.scoped("a key being computed is joined, not computed again", () =>
    Effect.gen(function*() {
      const cache = yield* build(fixture().layer)
      const { calls, computeMissing } = source()
      const single = yield* Effect.fork(
        cache.getOrCompute("k1", Schema.String, Effect.as(Effect.sleep("1 second"), "from the single compute"))
      )
      yield* Effect.yieldNow()
      const batch = yield* Effect.fork(cache.getOrComputeMany(["k0", "k1", "k2"], Schema.String, computeMissing))
      yield* Effect.yieldNow()
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(yield* Fiber.join(batch), [
        Option.some("value of k0"),
        Option.some("from the single compute"),
        Option.some("value of k2")
      ])
      assert.strictEqual(yield* Fiber.join(single), "from the single compute")
      assert.deepStrictEqual(calls, [["k0", "k2"]])
    }))

  it.scoped("concurrent batches over the same keys make one compute per key", () =>
    Effect.gen(function*() {
      const cache = yield* build(fixture().layer)
      const calls: Array<ReadonlyArray<string>> = []
      const slow = (batch: ReadonlyArray<string>) =>
        Effect.as(
          Effect.zipRight(Effect.sync(() => calls.push(batch)), Effect.sleep("100 millis")),
          batch.map((key) => [key, key.toUpperCase()] as const)
        )
      const fiber = yield* Effect.fork(Effect.all(
        Array.from({ length: 10 }, () => cache.getOrComputeMany(keys(20), Schema.String, slow)),
        { concurrency: "unbounded" }
      ))
      yield* Effect.yieldNow()
      yield* TestClock.adjust("100 millis")
      const results = yield* Fiber.join(fiber)
      assert.isTrue(results.every((values) => values.every((value, i) => Option.getOrNull(value) === `K${i}`)))
      assert.strictEqual(calls.flat().length, 20, "each key computed once")
      assert.strictEqual(calls.length, 1)
    }))

  it.scoped("a key the compute leaves out is None and nothing is stored for it", () =>
    Effect.gen(function*() {
      const cache = yield* build(fixture().layer)
      const { calls, computeMissing } = source(new Set(["k1"]))
      assert.deepStrictEqual(
        yield* cache.getOrComputeMany(["k0", "k1"], Schema.String, computeMissing),
        [Option.some("value of k0"), Option.none()]
      )
      yield* cache.getOrComputeMany(["k0", "k1"], Schema.String, computeMissing)
      assert.deepStrictEqual(calls, [["k0", "k1"], ["k1"]])
    }))

  it.scoped("a failing compute fails the call; a key within staleIfError serves its stale value", () =>
    Effect.gen(function*() {
      const cache = yield* build(fixture().layer)
      const failing = (_: ReadonlyArray<string>) => Effect.fail("source down" as const)
      assert.deepStrictEqual(
        yield* Effect.flip(cache.getOrComputeMany(["k0"], Schema.String, failing)),
        "source down"
      )
      const { computeMissing } = source()
      const options = { ttl: "10 seconds", staleIfError: "1 minute" } as const
      yield* cache.getOrComputeMany(["k0"], Schema.String, computeMissing, options)
      yield* TestClock.adjust("20 seconds")
      assert.deepStrictEqual(
        yield* cache.getOrComputeMany(["k0"], Schema.String, failing, options),
        [Option.some("value of k0")]
      )
    }))

  it.scoped("options per key; refresh-ahead recomputes one key alone, in the background", () =>
    Effect.gen(function*() {
      const cache = yield* build(fixture().layer)
      const { calls, computeMissing } = source()
      const options = (key: string): Cache.EntryOptions =>
        key === "hot" ? { ttl: "1 minute", refreshAfter: "10 seconds" } : { ttl: "5 seconds" }
      yield* cache.getOrComputeMany(["hot", "cold"], Schema.String, computeMissing, options)
      yield* TestClock.adjust("6 seconds")
      assert.deepStrictEqual(yield* cache.get("cold", Schema.String), Option.none(), "cold lived 5 s")
      yield* TestClock.adjust("5 seconds")
      const values = yield* cache.getOrComputeMany(["hot"], Schema.String, computeMissing, options)
      assert.deepStrictEqual(values, [Option.some("value of hot")], "served at once")
      yield* Effect.yieldNow()
      assert.deepStrictEqual(calls, [["hot", "cold"], ["hot"]])
      assert.strictEqual((yield* cache.stats).refreshes, 1)
    }))
})
