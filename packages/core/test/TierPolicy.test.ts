import { assert, describe, it } from "@effect/vitest"
import { Cache, CacheTier } from "@layercake/core"
import { LocalTier, SharedTier } from "@layercake/core/testing"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"

/** memory over a shared tier, each with a policy; the tiers' own reads show where a value is. */
const fixture = (l1: CacheTier.TierPolicy, l2: CacheTier.TierPolicy = {}) => {
  const local = LocalTier.make({ name: "l1" })
  const shared = SharedTier.make({ name: "l2" })
  const layer = Cache.layer({ namespace: "p", defaultTtl: "10 seconds" }).pipe(
    Layer.provide(CacheTier.stack(
      Layer.succeed(CacheTier.CacheTier, local.tier).pipe(CacheTier.withPolicy(l1)),
      Layer.succeed(CacheTier.CacheTier, shared).pipe(CacheTier.withPolicy(l2))
    ))
  )
  const inL1 = (key: string) => Effect.map(local.tier.get(`p:${key}`, Schema.String), (found) => found !== undefined)
  const inL2 = (key: string) => Effect.map(shared.get(`p:${key}`, Schema.String), (found) => found !== undefined)
  return { layer, inL1, inL2 }
}

const build = (layer: Layer.Layer<Cache.Cache>) => Effect.map(Layer.build(layer), Context.get(Cache.Cache))

describe("CacheTier.withPolicy", () => {
  it.scoped("writes: onRead — a write goes to L2 only (dropping L1's copy); a read promotes it", () =>
    Effect.gen(function*() {
      const { inL1, inL2, layer } = fixture({ writes: "onRead" })
      const cache = yield* build(layer)
      yield* cache.set("k", Schema.String, "v1")
      assert.isFalse(yield* inL1("k"))
      assert.isTrue(yield* inL2("k"))
      assert.deepStrictEqual(yield* cache.get("k", Schema.String), Option.some("v1"))
      assert.isTrue(yield* inL1("k"), "promoted on read")
      yield* cache.set("k", Schema.String, "v2")
      assert.isFalse(yield* inL1("k"), "the next write drops the copy")
      assert.deepStrictEqual(yield* cache.get("k", Schema.String), Option.some("v2"))
      yield* cache.getOrCompute("computed", Schema.String, Effect.succeed("c"))
      assert.deepStrictEqual([yield* inL1("computed"), yield* inL2("computed")], [false, true])
    }))

  it.scoped("promotion: afterHits — L1 takes a key on its n-th read from L2", () =>
    Effect.gen(function*() {
      const { inL1, layer } = fixture({ promotion: { afterHits: 3 }, writes: "onRead" })
      const cache = yield* build(layer)
      yield* cache.set("k", Schema.String, "v")
      for (let read = 1; read <= 2; read++) {
        yield* cache.get("k", Schema.String)
        assert.isFalse(yield* inL1("k"), `read ${read}`)
      }
      yield* cache.get("k", Schema.String)
      assert.isTrue(yield* inL1("k"), "read 3")
      const stats = yield* cache.stats
      assert.deepStrictEqual(stats.perTier.map((tier) => tier.hits), [0, 3])
    }))

  it.scoped("promotion: never, and probability (about one in 1/p reads)", () =>
    Effect.gen(function*() {
      const never = fixture({ promotion: "never", writes: "onRead" })
      const cache = yield* build(never.layer)
      yield* cache.set("k", Schema.String, "v")
      for (let i = 0; i < 5; i++) yield* cache.get("k", Schema.String)
      assert.isFalse(yield* never.inL1("k"))
      // a seeded generator: exactly the draws below 0.25 promote
      let seed = 42
      const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
      const sometimes = fixture({ promotion: { probability: 0.25, random }, writes: "onRead" })
      const other = yield* build(sometimes.layer)
      let promoted = 0
      for (let i = 0; i < 400; i++) {
        yield* other.set(`k${i}`, Schema.String, "v")
        yield* other.get(`k${i}`, Schema.String)
        if (yield* sometimes.inL1(`k${i}`)) promoted++
      }
      assert.isAbove(promoted, 60)
      assert.isBelow(promoted, 140)
    }))

  it.scoped("ttlScale: L2 keeps an entry twice as long and serves it after L1 dropped it; a promoted copy never outlives its source", () =>
    Effect.gen(function*() {
      const { inL1, inL2, layer } = fixture({}, { ttlScale: 2 })
      const cache = yield* build(layer)
      yield* cache.set("k", Schema.String, "v")
      yield* TestClock.adjust("11 seconds")
      assert.isFalse(yield* inL1("k"), "L1 kept it its 10 s")
      assert.isTrue(yield* inL2("k"))
      assert.deepStrictEqual(yield* cache.get("k", Schema.String), Option.some("v"), "served from L2")
      assert.isTrue(yield* inL1("k"), "promoted with L2's times")
      yield* TestClock.adjust("10 seconds")
      assert.deepStrictEqual([yield* inL1("k"), yield* inL2("k")], [false, false], "both gone at 20 s")
    }))

  it("invalid policies are a defect naming the option", () => {
    assert.throws(() => CacheTier.withPolicy({ ttlScale: 0.5 }), /CacheTier.withPolicy option "ttlScale"/)
    assert.throws(() => CacheTier.withPolicy({ promotion: { afterHits: 0 } }), /promotion.afterHits/)
    assert.throws(() => CacheTier.withPolicy({ writes: "sometimes" as never }), /writes/)
  })
})
