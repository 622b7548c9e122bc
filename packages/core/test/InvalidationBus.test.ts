import { assert, describe, it } from "@effect/vitest"
import { Cache, CacheTier, InvalidationBus } from "@layercake/core"
import { LocalTier, SharedTier } from "@layercake/core/testing"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import { eventually } from "./utils/eventually.js"

/** Two `Cache` instances ("nodes"), each with its own local tier, sharing one shared tier and one bus. */
const fleet = (busLayer: Layer.Layer<InvalidationBus.InvalidationBus> = InvalidationBus.layerMemory) =>
  Effect.gen(function*() {
    const shared = SharedTier.make({ name: "l2" })
    const bus = yield* Layer.build(busLayer)
    const node = Effect.fnUntraced(function*(namespace: string = "app") {
      const local = LocalTier.make({ name: "l1" })
      const tiers = CacheTier.stack(
        Layer.succeed(CacheTier.CacheTier, local.tier),
        Layer.succeed(CacheTier.CacheTier, shared)
      )
      const layer = Cache.layer({ namespace }).pipe(Layer.provide(tiers), Layer.provide(Layer.succeedContext(bus)))
      const cache = Context.get(yield* Layer.build(layer), Cache.Cache)
      return { cache, local }
    })
    return { node, shared }
  })

const read = (cache: Cache.Cache, key: string) => cache.get(key, Schema.String)

describe("InvalidationBus", () => {
  it.scoped("a set on one node drops the other node's local copy; it then reads the new value from L2", () =>
    Effect.gen(function*() {
      const { node } = yield* fleet()
      const a = yield* node()
      const b = yield* node()
      yield* a.cache.set("k", Schema.String, "v1")
      assert.deepStrictEqual(yield* read(b.cache, "k"), Option.some("v1"))
      assert.isTrue(b.local.entries.has("app:k"))
      yield* a.cache.set("k", Schema.String, "v2")
      yield* eventually(Effect.sync(() => b.local.entries.has("app:k")), (has) => !has)
      assert.deepStrictEqual(yield* read(b.cache, "k"), Option.some("v2"))
    }))

  it.scoped("invalidate, invalidateTags and clear reach every node", () =>
    Effect.gen(function*() {
      const { node } = yield* fleet()
      const a = yield* node()
      const b = yield* node()
      for (const key of ["x", "y", "z"]) yield* a.cache.set(key, Schema.String, key, { tags: [`tag-${key}`] })
      for (const key of ["x", "y", "z"]) yield* read(b.cache, key)
      yield* TestClock.adjust(1)
      yield* a.cache.invalidate("x")
      yield* eventually(Effect.sync(() => b.local.entries.has("app:x")), (has) => !has)
      yield* a.cache.invalidateTags(["tag-y"])
      yield* eventually(Effect.sync(() => b.local.entries.has("app:y")), (has) => !has)
      assert.deepStrictEqual(yield* read(b.cache, "y"), Option.none())
      assert.deepStrictEqual(yield* read(b.cache, "z"), Option.some("z"))
      yield* a.cache.clear
      yield* eventually(Effect.sync(() => b.local.entries.size), (size) => size === 0)
      assert.deepStrictEqual(yield* read(b.cache, "z"), Option.none())
    }))

  it.scoped("invalidate-then-write in the same millisecond: the other node sees the new value", () =>
    Effect.gen(function*() {
      const { node } = yield* fleet()
      const a = yield* node()
      const b = yield* node()
      yield* a.cache.set("profile", Schema.String, "old", { tags: ["user:1"] })
      yield* a.cache.invalidateTags(["user:1"])
      yield* a.cache.set("profile", Schema.String, "new", { tags: ["user:1"] })
      assert.deepStrictEqual(yield* read(b.cache, "profile"), Option.some("new"))
    }))

  it.scoped("write, invalidate, write, invalidate in one millisecond: the last invalidation wins everywhere", () =>
    Effect.gen(function*() {
      const { node } = yield* fleet()
      const a = yield* node()
      const b = yield* node()
      yield* a.cache.invalidateTags(["t"])
      yield* a.cache.set("k", Schema.String, "v1", { tags: ["t"] })
      yield* a.cache.invalidateTags(["t"])
      assert.deepStrictEqual(yield* read(b.cache, "k"), Option.none())
      yield* a.cache.set("k", Schema.String, "v2", { tags: ["t"] })
      assert.deepStrictEqual(yield* read(b.cache, "k"), Option.some("v2"))
    }))

  it.scoped("tags are scoped to the namespace: another namespace's equal tag is untouched", () =>
    Effect.gen(function*() {
      const { node } = yield* fleet()
      const app = yield* node("app")
      const admin = yield* node("admin")
      yield* app.cache.set("k", Schema.String, "app", { tags: ["users"] })
      yield* admin.cache.set("k", Schema.String, "admin", { tags: ["users"] })
      yield* TestClock.adjust(1)
      yield* app.cache.invalidateTags(["users"])
      admin.local.entries.clear()
      assert.deepStrictEqual(yield* read(app.cache, "k"), Option.none())
      assert.deepStrictEqual(yield* read(admin.cache, "k"), Option.some("admin"))
    }))

  it.scoped("a node ignores its own messages and messages of other namespaces", () =>
    Effect.gen(function*() {
      const { node } = yield* fleet()
      const a = yield* node("app")
      const other = yield* node("other")
      yield* other.cache.set("k", Schema.String, "mine")
      yield* a.cache.set("k", Schema.String, "a's")
      yield* a.cache.invalidate("unrelated")
      for (let i = 0; i < 100; i++) yield* Effect.yieldNow()
      assert.isTrue(a.local.entries.has("app:k"))
      assert.isTrue(other.local.entries.has("other:k"))
    }))

  it.scoped("messages carry keys, tags and the sender, never values", () =>
    Effect.gen(function*() {
      const bus = yield* InvalidationBus.makeMemory
      const seen = yield* bus.subscribe
      const tiers = Layer.succeed(CacheTier.CacheTier, LocalTier.make().tier)
      const cache = Context.get(
        yield* Layer.build(
          Cache.layer({ namespace: "app" }).pipe(
            Layer.provide(tiers),
            Layer.provide(Layer.succeed(InvalidationBus.InvalidationBus, bus))
          )
        ),
        Cache.Cache
      )
      yield* cache.set("k", Schema.String, "secret value")
      yield* cache.invalidateTags(["t"])
      const messages = yield* Queue.takeAll(seen)
      assert.deepStrictEqual([...messages], [
        { _tag: "KeysInvalidated", sender: cache.instanceId, namespace: "app", keys: ["k"] },
        { _tag: "TagsInvalidated", sender: cache.instanceId, namespace: "app", tags: ["t"] }
      ])
    }))

  it.scoped("a Gap (missed messages) drops every local entry of the node", () =>
    Effect.gen(function*() {
      const inbox = yield* Queue.unbounded<InvalidationBus.Message>()
      const gappy = Layer.succeed(InvalidationBus.InvalidationBus, {
        publish: () => Effect.void,
        subscribe: Effect.succeed(inbox)
      })
      const { node } = yield* fleet(gappy)
      const a = yield* node()
      yield* a.cache.set("k", Schema.String, "v")
      yield* Queue.offer(inbox, { _tag: "Gap" })
      yield* eventually(Effect.sync(() => a.local.entries.size), (size) => size === 0)
      assert.deepStrictEqual(yield* read(a.cache, "k"), Option.some("v"))
    }))

  it.scoped("the cache is subscribed when its build completes", () =>
    Effect.gen(function*() {
      const { node } = yield* fleet()
      const a = yield* node()
      yield* a.cache.set("k", Schema.String, "v")
      const b = yield* node()
      yield* read(b.cache, "k")
      yield* a.cache.invalidate("k")
      yield* eventually(Effect.sync(() => b.local.entries.has("app:k")), (has) => !has)
    }))
})
