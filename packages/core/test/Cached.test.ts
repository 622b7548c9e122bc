import { assert, describe, it } from "@effect/vitest"
import { Cache } from "@layercake/core"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import { makeFixture } from "./utils/fixtures.js"

const User = Schema.Struct({ id: Schema.Number, name: Schema.String })

describe("Cache.cached", () => {
  it.scoped("serves the function from the cache, keyed by its arguments", () =>
    Effect.gen(function*() {
      const loads = yield* Ref.make(0)
      const loadUser = (id: number, suffix: string) =>
        Effect.as(Ref.update(loads, (n) => n + 1), { id, name: `user ${id}${suffix}` })
      const getUser = Cache.cached({ key: "user", schema: User, ttl: "1 minute" })(loadUser)
      assert.deepStrictEqual(yield* getUser(1, ""), { id: 1, name: "user 1" })
      assert.deepStrictEqual(yield* getUser(1, ""), { id: 1, name: "user 1" })
      assert.deepStrictEqual(yield* getUser(2, "!"), { id: 2, name: "user 2!" })
      assert.strictEqual(yield* Ref.get(loads), 2)
      assert.deepStrictEqual(yield* Cache.get("user:[1,\"\"]", User), Option.some({ id: 1, name: "user 1" }))
      yield* TestClock.adjust("61 seconds")
      yield* getUser(1, "")
      assert.strictEqual(yield* Ref.get(loads), 3, "the ttl applies")
    }).pipe(Effect.provide(makeFixture().layer)))

  it.scoped("a key function; the function is called only on a miss", () =>
    Effect.gen(function*() {
      let calls = 0
      const byId = Cache.cached({ key: (user: { readonly id: number }) => `u${user.id}`, schema: Schema.Number })(
        (user: { readonly id: number }) => {
          calls++
          return Effect.succeed(user.id * 10)
        }
      )
      assert.strictEqual(yield* byId({ id: 4 }), 40)
      assert.strictEqual(yield* byId({ id: 4 }), 40)
      assert.strictEqual(calls, 1)
    }).pipe(Effect.provide(makeFixture().layer)))
})

describe("Cache.Strategy", () => {
  it.scoped("presets are EntryOptions, combinable with freshness options", () =>
    Effect.gen(function*() {
      const cache = yield* Cache.Cache
      assert.deepStrictEqual(Cache.Strategy.RealTime, { ttl: "10 seconds" })
      assert.deepStrictEqual(
        [Cache.Strategy.ShortTerm.ttl, Cache.Strategy.MediumTerm.ttl, Cache.Strategy.LongTerm.ttl],
        ["5 minutes", "1 hour", "3 hours"]
      )
      const options: Cache.EntryOptions = { ...Cache.Strategy.RealTime, staleWhileRevalidate: "1 minute" }
      yield* cache.getOrCompute("k", Schema.String, Effect.succeed("v1"), options)
      yield* TestClock.adjust("30 seconds")
      assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, Effect.succeed("v2"), options), "v1")
      assert.deepStrictEqual(Cache.Strategy.Custom("2 hours", { refreshAfter: "1 hour" }), {
        ttl: "2 hours",
        refreshAfter: "1 hour"
      })
    }).pipe(Effect.provide(makeFixture().layer)))
})

describe("Cache.stats hit ratios", () => {
  it.scoped("overall and per tier", () =>
    Effect.gen(function*() {
      const cache = yield* Cache.Cache
      assert.strictEqual((yield* cache.stats).hitRatio, 0)
      yield* cache.getOrCompute("k", Schema.String, Effect.succeed("v"))
      for (let i = 0; i < 3; i++) yield* cache.getOrCompute("k", Schema.String, Effect.succeed("v"))
      const stats = yield* cache.stats
      assert.strictEqual(stats.hitRatio, 3 / 4)
      assert.deepStrictEqual(stats.perTier.map((tier) => [tier.name, tier.hitRatio]), [["l1", 3 / 4], ["l2", 0]])
    }).pipe(Effect.provide(makeFixture().layer)))
})
