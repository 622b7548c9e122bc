import { assert, describe, it } from "@effect/vitest"
import { Cache, CacheTier } from "@layercake/core"
import { FaultyTier, LocalTier, SharedTier } from "@layercake/core/testing"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"

const tierOf = <E>(layer: Layer.Layer<CacheTier.CacheTier, E>) =>
  Effect.map(Layer.build(layer), Context.get(CacheTier.CacheTier))

const entry = (value: string, freshUntil: number, staleUntil = freshUntil): CacheTier.Entry<string> => ({
  value,
  schema: Schema.String,
  createdAt: 0,
  freshUntil,
  staleUntil,
  tags: [],
  negative: false
})

describe("CacheTier.stack", () => {
  it("a stack of one layer is that layer", () => {
    const one = SharedTier.layer()
    assert.strictEqual(CacheTier.stack(one), one)
  })

  it("zero layers do not type-check", () => {
    // @ts-expect-error a stack needs at least one tier
    const stack = () => CacheTier.stack()
    assert.isFunction(stack)
  })

  it.scoped("stacks nest and expose their members hottest first", () =>
    Effect.gen(function*() {
      const tier = yield* tierOf(
        CacheTier.stack(
          LocalTier.make({ name: "a" }).layer,
          CacheTier.stack(SharedTier.layer({ name: "b" }), SharedTier.layer({ name: "c" }))
        )
      )
      assert.deepStrictEqual(CacheTier.membersOf(tier).map((member) => member.name), ["a", "b", "c"])
      assert.isTrue(CacheTier.isStack(tier))
      assert.strictEqual(tier.kind, "shared")
    }))

  it.scoped("reads and promotes through sync access when a tier has it, running what sync.set returns", () =>
    Effect.gen(function*() {
      const kept = new Map<string, CacheTier.Entry<any>>()
      const calls: Array<string> = []
      const sync = CacheTier.make({
        name: "sync",
        kind: "local",
        maxTtl: undefined,
        get: () => Effect.die("get must not be called"),
        getMany: () => Effect.die("getMany must not be called"),
        set: () => Effect.die("set must not be called"),
        setMany: () => Effect.void,
        delete: () => Effect.void,
        invalidateTags: () => Effect.void,
        clear: () => Effect.void,
        sync: {
          get: (key, schema, errorSchema, now) => {
            calls.push(`get ${key} @${now}`)
            const found = kept.get(key)
            return found === undefined ? undefined : CacheTier.readAs(key, found, schema, errorSchema)
          },
          set: (key, entry, now) => {
            calls.push(`set ${key} @${now}`)
            kept.set(key, entry)
            return Effect.sync(() => calls.push(`after set ${key}`))
          }
        }
      })
      const l2 = SharedTier.make({ name: "l2" })
      const tier = yield* tierOf(
        CacheTier.stack(Layer.succeed(CacheTier.CacheTier, sync), Layer.succeed(CacheTier.CacheTier, l2))
      )
      yield* l2.set("k", entry("v", 1_000, 2_000))
      yield* TestClock.adjust(10)
      const found = yield* tier.get("k", Schema.String)
      assert.strictEqual((found as CacheTier.Entry<string>).value, "v")
      assert.deepStrictEqual(calls, ["get k @10", "set k @10", "after set k"])
      assert.strictEqual(kept.get("k")?.staleUntil, 2_000)
      const again = yield* tier.get("k", Schema.String)
      assert.strictEqual((again as CacheTier.Entry<string>).value, "v")
      assert.deepStrictEqual(calls.slice(3), ["get k @10"])
      assert.isUndefined(yield* tier.get("missing", Schema.String))
    }))

  it.scoped("members with one name are given distinct names, in stack order", () =>
    Effect.gen(function*() {
      const tier = yield* tierOf(
        CacheTier.stack(
          LocalTier.make({ name: "x" }).layer,
          SharedTier.layer({ name: "x" }),
          CacheTier.stack(LocalTier.make({ name: "x" }).layer, SharedTier.layer({ name: "x#2" }))
        )
      )
      assert.deepStrictEqual(CacheTier.membersOf(tier).map((member) => member.name), ["x", "x#2", "x#3", "x#2#2"])
      const stats = yield* Effect.flatMap(Cache.make({ namespace: "n" }), (cache) => cache.stats).pipe(
        Effect.provideService(CacheTier.CacheTier, tier)
      )
      assert.deepStrictEqual(stats.perTier.map((member) => member.name), ["x", "x#2", "x#3", "x#2#2"])
    }))

  it.scoped("members are built with the ambient memo map: a shared dependency is built once", () =>
    Effect.gen(function*() {
      class Connection extends Context.Tag("Connection")<Connection, { readonly id: number }>() {}
      let built = 0
      const connection = Layer.sync(Connection, () => ({ id: ++built }))
      const tierNeeding = (name: string) =>
        Layer.effect(CacheTier.CacheTier, Effect.map(Connection, () => SharedTier.make({ name })))
      yield* tierOf(CacheTier.stack(tierNeeding("one"), tierNeeding("two")).pipe(Layer.provide(connection)))
      assert.strictEqual(built, 1)
    }))

  it.scoped("reads top-down and promotes a hit with its absolute lifetime", () =>
    Effect.gen(function*() {
      const top = LocalTier.make({ name: "top" })
      const bottom = SharedTier.make({ name: "bottom" })
      const tier = yield* tierOf(
        CacheTier.stack(Layer.succeed(CacheTier.CacheTier, top.tier), Layer.succeed(CacheTier.CacheTier, bottom))
      )
      yield* bottom.set("k", entry("v", 1_000, 5_000))
      yield* TestClock.adjust(2_000)
      const found = yield* tier.get("k", Schema.String)
      assert.strictEqual((found as CacheTier.Entry<string>).value, "v")
      const promoted = top.entries.get("k")!
      assert.strictEqual(promoted.freshUntil, 1_000)
      assert.strictEqual(promoted.staleUntil, 5_000)
    }))

  it.scoped("a failing tier is skipped on read and on write", () =>
    Effect.gen(function*() {
      const faults = FaultyTier.makeFaults()
      const bottom = SharedTier.make({ name: "bottom" })
      const tier = yield* tierOf(
        CacheTier.stack(
          FaultyTier.layer(faults, LocalTier.make({ name: "top" }).layer),
          Layer.succeed(CacheTier.CacheTier, bottom)
        )
      )
      faults.fail("Unavailable")
      yield* tier.set("k", entry("v", 1_000))
      const found = yield* tier.get("k", Schema.String)
      assert.strictEqual((found as CacheTier.Entry<string>).value, "v")
      assert.isTrue(faults.calls.get > 0 && faults.calls.set > 0)
    }))
})

describe("tier failures", () => {
  const faultyFixture = () => {
    const faults = FaultyTier.makeFaults()
    const local = LocalTier.make({ name: "l1" })
    const tiers = CacheTier.stack(
      Layer.succeed(CacheTier.CacheTier, local.tier),
      FaultyTier.layer(faults, SharedTier.layer({ name: "l2" }))
    )
    return { faults, local, layer: Cache.layer({ namespace: "app" }).pipe(Layer.provide(tiers)) }
  }

  it.scoped("a failing L2 never fails get/getOrCompute/set: logged, counted, served from L1 and compute", () =>
    Effect.gen(function*() {
      const { faults, local, layer } = faultyFixture()
      const cache = Context.get(yield* Layer.build(layer), Cache.Cache)
      faults.fail("Unavailable")
      assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, Effect.succeed("computed")), "computed")
      assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, Effect.die("L1 serves")), "computed")
      yield* cache.set("s", Schema.String, "v")
      assert.deepStrictEqual(yield* cache.get("s", Schema.String), Option.some("v"))
      local.entries.clear()
      assert.deepStrictEqual(yield* cache.get("s", Schema.String), Option.none())
      yield* cache.invalidate("k")
      yield* cache.invalidateTags(["t"])
      yield* cache.clear
      const stats = yield* cache.stats
      assert.isTrue(stats.tierErrors >= 6)
      assert.strictEqual(stats.perTier[1].errors, stats.tierErrors)
      assert.strictEqual(stats.perTier[0].errors, 0)
    }))

  it.scoped("after the tier heals the cache uses it again", () =>
    Effect.gen(function*() {
      const { faults, local, layer } = faultyFixture()
      const cache = Context.get(yield* Layer.build(layer), Cache.Cache)
      faults.fail("Timeout")
      yield* cache.set("k", Schema.String, "lost in L2")
      faults.heal()
      yield* cache.set("k", Schema.String, "stored")
      local.entries.clear()
      assert.deepStrictEqual(yield* cache.get("k", Schema.String), Option.some("stored"))
    }))
})
