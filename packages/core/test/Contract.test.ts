/**
 * One test per defect of the contract found by reading the code and by a
 * first app (issue 8): each failed before the change.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cache, CacheTier, InvalidationBus } from "@layercake/core"
import { LocalTier, SharedTier, TestHelpers } from "@layercake/core/testing"
import * as Cause from "effect/Cause"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import { counted, makeFixture } from "./utils/fixtures.js"

const build = (layer: Layer.Layer<Cache.Cache>) => Effect.map(Layer.build(layer), Context.get(Cache.Cache))

class NotFound extends Schema.TaggedError<NotFound>()("NotFound", { id: Schema.Number }) {}
class Gone extends Schema.TaggedError<Gone>()("Gone", {}) {}
const User = Schema.Struct({ id: Schema.Number, name: Schema.String })

/** A string kept as a URL; decoding a string that is not one throws `TypeError: Invalid URL`. */
const UrlFromString = Schema.transform(Schema.String, Schema.Unknown, {
  strict: true,
  decode: (s) => new URL(s),
  encode: (u) => String(u)
})

const defectMessage = (exit: Exit.Exit<unknown, unknown>): string =>
  Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "no failure"

describe("contract", () => {
  describe("negative caching is type-sound", () => {
    it.scoped("a cached failure is a miss for a caller of another schema, which computes its own value", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const failed = yield* Effect.exit(
          cache.getOrCompute("user:1", User, Effect.fail(new NotFound({ id: 1 })), {
            errorTtl: "1 minute",
            errorSchema: NotFound
          })
        )
        assert.isTrue(Exit.isFailure(failed))
        assert.strictEqual(yield* cache.getOrCompute("user:1", Schema.Number, Effect.succeed(42)), 42)
      }))

    it.scoped("a cached failure is served to a caller whose errorSchema decodes it, and only to it", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const { compute, runs } = yield* counted(undefined)
        const failing = Effect.zipRight(compute, Effect.fail(new NotFound({ id: 1 })))
        const options = { errorTtl: "1 minute", errorSchema: NotFound } as const
        yield* Effect.exit(cache.getOrCompute("u", User, failing, options))
        const again = yield* Effect.exit(cache.getOrCompute("u", User, failing, options))
        assert.deepStrictEqual(again, Exit.fail(new NotFound({ id: 1 })))
        assert.strictEqual(yield* Ref.get(runs), 1)
        // another error schema: the cached failure does not decode, so it is a miss
        const other = yield* Effect.exit(
          cache.getOrCompute("u", User, Effect.fail(new Gone()), { errorTtl: "1 minute", errorSchema: Gone })
        )
        assert.deepStrictEqual(other, Exit.fail(new Gone()))
      }))

    it.scoped("a caller joining a compute of another schema gets its own outcome, never the foreign failure", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const gate = yield* Deferred.make<void>()
        const first = yield* Effect.fork(
          cache.getOrCompute(
            "user:1",
            User,
            Effect.zipRight(Deferred.await(gate), Effect.fail(new NotFound({ id: 1 })))
          )
        )
        yield* TestHelpers.waitFor(cache.stats, (stats) => stats.computes === 1)
        const second = yield* Effect.fork(cache.getOrCompute("user:1", Schema.Number, Effect.succeed(42)))
        yield* TestHelpers.waitFor(cache.stats, (stats) => stats.coalesced === 1)
        yield* Deferred.succeed(gate, undefined)
        assert.deepStrictEqual(yield* Fiber.await(first), Exit.fail(new NotFound({ id: 1 })))
        assert.deepStrictEqual(yield* Fiber.await(second), Exit.succeed(42))
      }))

    it.scoped("callers of one schema share one failing compute (inline schemas of one shape too)", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const { compute, runs } = yield* counted(undefined)
        const gate = yield* Deferred.make<void>()
        const failing = Effect.zipRight(Effect.zipRight(compute, Deferred.await(gate)), Effect.fail("down" as const))
        const schema = () => Schema.Struct({ id: Schema.Number })
        const fibers = yield* Effect.forEach(
          [1, 2, 3],
          () => Effect.fork(cache.getOrCompute("k", schema(), failing)),
          { concurrency: "unbounded" }
        )
        yield* TestHelpers.waitFor(cache.stats, (stats) => stats.coalesced === 2)
        yield* Deferred.succeed(gate, undefined)
        for (const fiber of fibers) assert.deepStrictEqual(yield* Fiber.await(fiber), Exit.fail("down" as const))
        assert.strictEqual(yield* Ref.get(runs), 1)
      }))

    it("errorTtl without errorSchema does not type-check, nor an errorSchema of a foreign failure", () => {
      const compute: Effect.Effect<string, NotFound> = Effect.fail(new NotFound({ id: 1 }))
      // @ts-expect-error errorTtl needs errorSchema
      const missing = () => Cache.getOrCompute("k", Schema.String, compute, { errorTtl: "1 minute" })
      // @ts-expect-error Gone is not a failure of this compute
      const foreign = () => Cache.getOrCompute("k", Schema.String, compute, { errorTtl: "1 minute", errorSchema: Gone })
      const fits = () =>
        Cache.getOrCompute("k", Schema.String, compute, { errorTtl: "1 minute", errorSchema: NotFound })
      assert.isFunction(missing)
      assert.isFunction(foreign)
      assert.isFunction(fits)
    })
  })

  describe("Schema code that throws never crashes a read or a set", () => {
    it.scoped("an L1 read with another schema whose decode throws is a counted decode failure", () =>
      Effect.gen(function*() {
        const local = LocalTier.make()
        const cache = yield* build(Cache.layer({ namespace: "n" }).pipe(Layer.provide(local.layer)))
        yield* cache.set("link", Schema.String, "not a url")
        const read = yield* cache.getOrCompute("link", UrlFromString, Effect.succeed(new URL("https://example.com")))
        assert.strictEqual(String(read), "https://example.com/")
        assert.strictEqual((yield* cache.stats).decodeFailures, 1)
      }))

    it.scoped("a set whose encode throws fails with a ParseError", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const Throwing = Schema.transform(Schema.String, Schema.Number, {
          strict: true,
          decode: Number,
          encode: () => {
            throw new Error("encode exploded")
          }
        })
        const exit = yield* Effect.exit(cache.set("k", Throwing, 1))
        assert.isTrue(Exit.isFailure(exit))
        const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
        assert.isTrue(Option.isSome(error) && ParseResult.isParseError(error.value))
        assert.include(defectMessage(exit), "encode exploded")
      }))
  })

  describe("bad input is rejected where it enters", () => {
    it.scoped("a value JSON would not give back fails set with a ParseError naming the field", () =>
      Effect.gen(function*() {
        const fixture = makeFixture()
        const cache = yield* build(fixture.layer)
        yield* cache.set("score", Schema.Struct({ score: Schema.Number }), { score: 1 })
        const exit = yield* Effect.exit(cache.set("score", Schema.Struct({ score: Schema.Number }), { score: NaN }))
        assert.isTrue(Exit.isFailure(exit))
        assert.include(defectMessage(exit), "value.score is NaN")
        // no tier keeps the older value either
        assert.isFalse(fixture.local.entries.has("test:score"))
        assert.isTrue(Option.isNone(yield* cache.get("score", Schema.Struct({ score: Schema.Number }))))
      }))

    it.scoped("keys and tags that are not well-formed Unicode are a defect that says so", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const runs: ReadonlyArray<Effect.Effect<unknown, unknown>> = [
          cache.getOrCompute("\uD800", Schema.String, Effect.succeed("a")),
          cache.set("a\uDC00", Schema.String, "a"),
          cache.invalidate("\uD800"),
          cache.invalidateTags(["\uDFFF"]),
          cache.getOrCompute("k", Schema.String, Effect.succeed("a"), { tags: ["\uD800x"] })
        ]
        for (const run of runs) {
          const exit = yield* Effect.exit(run)
          assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause))
          assert.include(defectMessage(exit), "not well-formed Unicode")
        }
        // a well-formed pair is fine
        assert.strictEqual(yield* cache.getOrCompute("\uD83D\uDE00", Schema.String, Effect.succeed("a")), "a")
      }))

    it.scoped("an invalid Cache option is a defect naming the option, the value and what is accepted", () =>
      Effect.gen(function*() {
        for (
          const [options, names] of [
            [{ namespace: "a b" }, ["namespace", `"a b"`]],
            [{ namespace: "n", defaultTtl: "soon" }, ["defaultTtl", `"soon"`, "Duration"]],
            [{ namespace: "n", jitter: 2 }, ["jitter", "2", "0 to 1"]],
            [{ namespace: "n", hardTimeout: -1 }, ["hardTimeout", "-1"]]
          ] as const
        ) {
          const exit = yield* Effect.exit(
            build(Cache.layer(options as Cache.Options).pipe(Layer.provide(LocalTier.make().layer)))
          )
          const message = defectMessage(exit)
          for (const name of names) assert.include(message, name)
        }
        const cache = yield* build(makeFixture().layer)
        const exit = yield* Effect.exit(
          cache.getOrCompute("k", Schema.String, Effect.succeed("a"), { ttl: "later" as never })
        )
        assert.include(defectMessage(exit), `Cache option "ttl" is invalid: got "later"`)
      }))
  })

  describe("stacks name their tiers", () => {
    it.scoped("two local tiers without names stack as local and local#2, visible in perTier", () =>
      Effect.gen(function*() {
        const cache = yield* build(
          Cache.layer({ namespace: "n" }).pipe(
            Layer.provide(CacheTier.stack(LocalTier.make().layer, LocalTier.make().layer))
          )
        )
        yield* cache.getOrCompute("k", Schema.String, Effect.succeed("a"))
        assert.deepStrictEqual((yield* cache.stats).perTier.map((tier) => tier.name), ["local", "local#2"])
      }))
  })

  describe("value-dependent options", () => {
    const Team = Schema.Struct({ id: Schema.Number, teamId: Schema.String, volatile: Schema.Boolean })

    it.scoped("tags and ttl computed from the value, on computes and on refreshes", () =>
      Effect.gen(function*() {
        const fixture = makeFixture()
        const cache = yield* build(fixture.layer)
        const version = yield* Ref.make(0)
        const compute = Effect.map(Ref.updateAndGet(version, (n) => n + 1), (n) => ({
          id: 1,
          teamId: n === 1 ? "red" : "blue",
          volatile: n > 1
        }))
        const options: Cache.EntryOptions<typeof Team.Type> = {
          tags: (user) => [`team:${user.teamId}`],
          ttl: (user) => user.volatile ? "10 seconds" : "1 minute",
          refreshAfter: "30 seconds"
        }
        yield* cache.getOrCompute("u", Team, compute, options)
        assert.deepStrictEqual(fixture.local.entries.get("test:u")?.tags, ["test:team:red"])
        assert.strictEqual(fixture.local.entries.get("test:u")?.freshUntil, 60_000)
        yield* TestClock.adjust("30 seconds")
        yield* cache.getOrCompute("u", Team, compute, options) // starts the refresh
        yield* Effect.provideService(TestHelpers.settled, Cache.Cache, cache)
        const refreshed = fixture.local.entries.get("test:u")
        assert.deepStrictEqual(refreshed?.tags, ["test:team:blue"])
        assert.strictEqual(refreshed?.freshUntil, 40_000)
        yield* cache.invalidateTags(["team:blue"])
        assert.isTrue(Option.isNone(yield* cache.get("u", Team)))
      }))

    it.scoped("a ttl function that gives 0 stores nothing; one that throws is logged and stores nothing", () =>
      Effect.gen(function*() {
        const fixture = makeFixture()
        const cache = yield* build(fixture.layer)
        assert.strictEqual(yield* cache.getOrCompute("a", Schema.Number, Effect.succeed(1), { ttl: () => 0 }), 1)
        const throwing = {
          ttl: (): number => {
            throw new Error("no ttl")
          }
        }
        assert.strictEqual(yield* cache.getOrCompute("b", Schema.Number, Effect.succeed(2), throwing), 2)
        assert.strictEqual(fixture.local.entries.size, 0)
      }))

    it.scoped("a tag invalidation while a compute with value-dependent tags runs keeps its result out", () =>
      Effect.gen(function*() {
        const fixture = makeFixture()
        const cache = yield* build(fixture.layer)
        const gate = yield* Deferred.make<void>()
        const fiber = yield* Effect.fork(
          cache.getOrCompute("u", Schema.String, Effect.as(Deferred.await(gate), "old"), { tags: (v) => [v] })
        )
        yield* TestHelpers.waitFor(cache.stats, (stats) => stats.computes === 1)
        yield* cache.invalidateTags(["anything"])
        yield* Deferred.succeed(gate, undefined)
        assert.strictEqual(yield* Fiber.join(fiber), "old")
        assert.isFalse(fixture.local.entries.has("test:u"))
      }))
  })

  describe("config", () => {
    it.scoped("Cache.layerConfig reads its options from a ConfigProvider", () =>
      Effect.gen(function*() {
        const { Config } = yield* Effect.promise(() => import("effect"))
        const layer = Cache.layerConfig({
          namespace: Config.string("CACHE_NAMESPACE"),
          defaultTtl: Config.duration("CACHE_TTL")
        }).pipe(
          Layer.provide(LocalTier.make().layer),
          Layer.provide(
            Layer.setConfigProvider(
              ConfigProvider.fromMap(new Map([["CACHE_NAMESPACE", "configured"], ["CACHE_TTL", "10 seconds"]]))
            )
          )
        )
        const cache = yield* build(Layer.orDie(layer))
        assert.strictEqual(cache.namespace, "configured")
        yield* cache.getOrCompute("k", Schema.String, Effect.succeed("a"))
        yield* TestClock.adjust("10 seconds")
        assert.isTrue(Option.isNone(yield* cache.get("k", Schema.String)))
      }))
  })

  describe("the test kit", () => {
    it.scoped("waitFor gives up with a defect instead of hanging", () =>
      Effect.gen(function*() {
        const exit = yield* Effect.exit(TestHelpers.waitFor(Effect.succeed(1), (n) => n === 2, { rounds: 5 }))
        assert.include(defectMessage(exit), "did not hold after 5 rounds")
      }))

    it.scoped("two caches on one bus and one shared tier: a set on one is seen by the other", () =>
      Effect.gen(function*() {
        const shared = SharedTier.make()
        const bus = yield* InvalidationBus.makeMemory
        const node = () =>
          build(
            Cache.layer({ namespace: "n" }).pipe(
              Layer.provide(CacheTier.stack(LocalTier.make().layer, Layer.succeed(CacheTier.CacheTier, shared))),
              Layer.provide(Layer.succeed(InvalidationBus.InvalidationBus, bus))
            )
          )
        const a = yield* node()
        const b = yield* node()
        yield* a.set("k", Schema.String, "1")
        assert.deepStrictEqual(yield* b.get("k", Schema.String), Option.some("1"))
        yield* a.set("k", Schema.String, "2")
        yield* TestHelpers.waitFor(b.get("k", Schema.String), (value) => Option.getOrNull(value) === "2")
      }))
  })
})
