import { assert, describe, it } from "@effect/vitest"
import { Cache, CacheTier } from "@layercake/core"
import { LocalTier, SharedTier } from "@layercake/core/testing"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import * as Tracer from "effect/Tracer"
import { eventually } from "./utils/eventually.js"
import { counted, makeFixture } from "./utils/fixtures.js"

/** A span that records nothing but its own existence. */
class RecordingSpan implements Tracer.Span {
  readonly _tag = "Span"
  readonly spanId = "span"
  readonly traceId = "trace"
  readonly sampled = true
  status: Tracer.SpanStatus
  readonly attributes = new Map<string, unknown>()
  readonly links: ReadonlyArray<Tracer.SpanLink>
  constructor(
    readonly name: string,
    readonly parent: Option.Option<Tracer.AnySpan>,
    readonly context: Context.Context<never>,
    links: ReadonlyArray<Tracer.SpanLink>,
    startTime: bigint,
    readonly kind: Tracer.SpanKind
  ) {
    this.status = { _tag: "Started", startTime }
    this.links = links
  }
  end(endTime: bigint, exit: Exit.Exit<unknown, unknown>) {
    this.status = { _tag: "Ended", startTime: this.status.startTime, endTime, exit }
  }
  attribute(key: string, value: unknown) {
    this.attributes.set(key, value)
  }
  event() {}
  addLinks() {}
}

const build = (layer: Layer.Layer<Cache.Cache>) => Effect.map(Layer.build(layer), Context.get(Cache.Cache))

describe("Cache", () => {
  describe("getOrCompute", () => {
    it.scoped("computes on a miss, then serves the kept value without computing", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const { compute, runs } = yield* counted({ id: 1 })
        const first = yield* cache.getOrCompute("user:1", Schema.Struct({ id: Schema.Number }), compute)
        const second = yield* cache.getOrCompute("user:1", Schema.Struct({ id: Schema.Number }), compute)
        assert.deepStrictEqual(first, { id: 1 })
        assert.deepStrictEqual(second, { id: 1 })
        assert.strictEqual(yield* Ref.get(runs), 1)
        const stats = yield* cache.stats
        assert.strictEqual(stats.misses, 1)
        assert.strictEqual(stats.hits, 1)
        assert.strictEqual(stats.computes, 1)
      }))

    it.scoped("an L1 hit returns the very object that was stored (no decode)", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const schema = Schema.Struct({ at: Schema.Date })
        const value = { at: new Date(0) }
        yield* cache.getOrCompute("k", schema, Effect.succeed(value))
        const again = yield* cache.getOrCompute("k", schema, Effect.die("no compute expected"))
        assert.strictEqual(again, value)
      }))

    it.scoped("stampede: 1000 concurrent callers, one compute, all get its result", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const gate = yield* Deferred.make<void>()
        const runs = yield* Ref.make(0)
        const compute = Ref.update(runs, (n) => n + 1).pipe(Effect.zipRight(Deferred.await(gate)), Effect.as(42))
        const fibers = yield* Effect.forEach(
          Array.from({ length: 1000 }),
          () => Effect.fork(cache.getOrCompute("hot", Schema.Number, compute)),
          { concurrency: "unbounded" }
        )
        yield* eventually(cache.stats, (stats) => stats.coalesced === 999)
        yield* Deferred.succeed(gate, undefined)
        const results = yield* Fiber.joinAll(fibers)
        assert.deepStrictEqual(new Set(results), new Set([42]))
        assert.strictEqual(yield* Ref.get(runs), 1)
        const stats = yield* cache.stats
        assert.strictEqual(stats.computes, 1)
        assert.strictEqual(stats.coalesced, 999)
      }))

    it.scoped("schemas built inline on every call still share one compute", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const gate = yield* Deferred.make<void>()
        const runs = yield* Ref.make(0)
        const compute = Ref.update(runs, (n) => n + 1).pipe(
          Effect.zipRight(Deferred.await(gate)),
          Effect.as({ at: new Date(5) })
        )
        const fibers = yield* Effect.forEach(Array.from({ length: 10 }), () =>
          Effect.fork(cache.getOrCompute("k", Schema.Struct({ at: Schema.Date }), compute)))
        yield* eventually(cache.stats, (stats) =>
          stats.coalesced === 9)
        yield* Deferred.succeed(gate, undefined)
        const results = yield* Fiber.joinAll(fibers)
        assert.strictEqual(yield* Ref.get(runs), 1)
        for (const result of results) assert.strictEqual(result.at.getTime(), 5)
      }))

    it.scoped("a joiner whose schema cannot read the flight's result computes on its own", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const gate = yield* Deferred.make<void>()
        const first = yield* Effect.fork(
          cache.getOrCompute("k", Schema.String, Effect.as(Deferred.await(gate), "text"))
        )
        yield* eventually(cache.stats, (stats) => stats.inFlight === 1)
        const second = yield* Effect.fork(cache.getOrCompute("k", Schema.Number, Effect.succeed(42)))
        yield* eventually(cache.stats, (stats) => stats.coalesced === 1)
        yield* Deferred.succeed(gate, undefined)
        assert.strictEqual(yield* Fiber.join(first), "text")
        assert.strictEqual(yield* Fiber.join(second), 42)
        assert.strictEqual((yield* cache.stats).decodeFailures, 1)
      }))

    it.scoped("a failing compute fails every waiter once and is not cached", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const gate = yield* Deferred.make<void>()
        const runs = yield* Ref.make(0)
        const compute = Ref.update(runs, (n) => n + 1).pipe(
          Effect.zipRight(Deferred.await(gate)),
          Effect.zipRight(Effect.fail("db down" as const))
        )
        const fibers = yield* Effect.forEach(Array.from({ length: 10 }), () =>
          Effect.fork(Effect.exit(cache.getOrCompute("k", Schema.Number, compute))))
        yield* eventually(cache.stats, (stats) =>
          stats.coalesced === 9)
        yield* Deferred.succeed(gate, undefined)
        const exits = yield* Fiber.joinAll(fibers)
        for (const exit of exits) assert.deepStrictEqual(exit, Exit.fail("db down"))
        assert.strictEqual(yield* Ref.get(runs), 1)
        const retried = yield* Effect.exit(cache.getOrCompute("k", Schema.Number, Effect.succeed(7)))
        assert.deepStrictEqual(retried, Exit.succeed(7))
      }))

    it.scoped("an interrupted caller does not cancel the compute others wait for", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const gate = yield* Deferred.make<void>()
        const compute = Effect.as(Deferred.await(gate), "done")
        const first = yield* Effect.fork(cache.getOrCompute("k", Schema.String, compute))
        const second = yield* Effect.fork(cache.getOrCompute("k", Schema.String, compute))
        yield* eventually(cache.stats, (stats) => stats.coalesced === 1)
        yield* Fiber.interrupt(first)
        yield* Deferred.succeed(gate, undefined)
        assert.strictEqual(yield* Fiber.join(second), "done")
        assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, Effect.die("cached")), "done")
      }))

    it.scoped("the last waiter leaving interrupts the compute", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const interrupted = yield* Deferred.make<void>()
        const compute = Effect.never.pipe(Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined)))
        const caller = yield* Effect.fork(cache.getOrCompute("k", Schema.String, compute))
        yield* eventually(cache.stats, (stats) => stats.inFlight === 1)
        yield* Fiber.interrupt(caller)
        yield* Deferred.await(interrupted)
        yield* eventually(cache.stats, (stats) => stats.inFlight === 0)
      }))

    it.scoped("the compute is interruptible even when the caller is not", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const interrupted = yield* Deferred.make<void>()
        const compute = Effect.never.pipe(Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined)))
        const caller = yield* Effect.fork(
          Effect.uninterruptibleMask((restore) => restore(cache.getOrCompute("k", Schema.String, compute)))
        )
        yield* eventually(cache.stats, (stats) => stats.inFlight === 1)
        yield* Fiber.interrupt(caller)
        yield* Deferred.await(interrupted)
      }))

    it.scoped("the compute runs with the caller's services", () =>
      Effect.gen(function*() {
        class Greeting extends Context.Tag("Greeting")<Greeting, string>() {}
        const cache = yield* build(makeFixture().layer)
        const value = yield* cache.getOrCompute("k", Schema.String, Greeting).pipe(
          Effect.provideService(Greeting, "hello")
        )
        assert.strictEqual(value, "hello")
      }))
  })

  describe("lifetime", () => {
    it.scoped("fresh until ttl, a miss at ttl (TTL boundary)", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const { compute, runs } = yield* counted("v")
        yield* cache.getOrCompute("k", Schema.String, compute, { ttl: "10 seconds" })
        yield* TestClock.adjust("9999 millis")
        yield* cache.getOrCompute("k", Schema.String, compute, { ttl: "10 seconds" })
        assert.strictEqual(yield* Ref.get(runs), 1)
        yield* TestClock.adjust("1 millis")
        yield* cache.getOrCompute("k", Schema.String, compute, { ttl: "10 seconds" })
        assert.strictEqual(yield* Ref.get(runs), 2)
      }))

    it.scoped("defaultTtl applies when no ttl is given", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture({ defaultTtl: "1 minute" }).layer)
        yield* cache.set("k", Schema.String, "v")
        yield* TestClock.adjust("59 seconds")
        assert.deepStrictEqual(yield* cache.get("k", Schema.String), Option.some("v"))
        yield* TestClock.adjust("1 second")
        assert.deepStrictEqual(yield* cache.get("k", Schema.String), Option.none())
      }))

    it.scoped("jitter shortens ttl by at most the given fraction", () =>
      Effect.gen(function*() {
        const fixture = makeFixture({ jitter: 0.5 })
        const cache = yield* build(fixture.layer)
        for (let i = 0; i < 50; i++) yield* cache.set(`k${i}`, Schema.Number, i, { ttl: "100 seconds" })
        const lifetimes = [...fixture.local.entries.values()].map((entry) => entry.freshUntil - entry.createdAt)
        assert.isTrue(lifetimes.every((ms) => ms >= 50_000 && ms <= 100_000))
        assert.isTrue(new Set(lifetimes).size > 1)
      }))

    it.scoped("promotion from L2 keeps the remaining lifetime", () =>
      Effect.gen(function*() {
        const fixture = makeFixture()
        const cache = yield* build(fixture.layer)
        yield* cache.set("k", Schema.String, "v", { ttl: "60 seconds" })
        fixture.local.entries.clear()
        yield* TestClock.adjust("59 seconds")
        assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, Effect.die("no compute")), "v")
        const promoted = fixture.local.entries.get("test:k")!
        assert.strictEqual(promoted.freshUntil, 60_000)
        yield* TestClock.adjust("1 second")
        assert.deepStrictEqual(yield* cache.get("k", Schema.String), Option.none())
        const stats = yield* cache.stats
        assert.deepStrictEqual(stats.perTier.map((tier) => tier.name), ["l1", "l2"])
        assert.strictEqual(stats.perTier[1].hits, 1)
      }))

    it.scoped("a tier's maxTtl caps a promoted copy and never extends it", () =>
      Effect.gen(function*() {
        const local = LocalTier.make({ name: "l1", maxTtl: 5_000 })
        const tiers = CacheTier.stack(Layer.succeed(CacheTier.CacheTier, local.tier), SharedTier.layer({ name: "l2" }))
        const cache = yield* build(Cache.layer({ namespace: "t" }).pipe(Layer.provide(tiers)))
        yield* cache.set("long", Schema.String, "v", { ttl: "60 seconds" })
        assert.strictEqual(local.entries.get("t:long")!.staleUntil, 5_000)
        yield* cache.set("short", Schema.String, "v", { ttl: "1 second" })
        assert.strictEqual(local.entries.get("t:short")!.staleUntil, 1_000)
        yield* TestClock.adjust("5 seconds")
        assert.deepStrictEqual(yield* cache.get("long", Schema.String), Option.some("v"))
        assert.strictEqual(local.entries.get("t:long")!.staleUntil, 10_000)
      }))
  })

  describe("decoding", () => {
    it.scoped("bytes that no longer match the schema are a counted miss, then overwritten", () =>
      Effect.gen(function*() {
        const fixture = makeFixture()
        const cache = yield* build(fixture.layer)
        yield* cache.set("k", Schema.Struct({ name: Schema.String }), { name: "old shape" })
        fixture.local.entries.clear()
        const NewShape = Schema.Struct({ name: Schema.String, age: Schema.Number })
        const value = yield* cache.getOrCompute("k", NewShape, Effect.succeed({ name: "n", age: 1 }))
        assert.deepStrictEqual(value, { name: "n", age: 1 })
        assert.strictEqual((yield* cache.stats).decodeFailures, 1)
        fixture.local.entries.clear()
        assert.deepStrictEqual(yield* cache.get("k", NewShape), Option.some({ name: "n", age: 1 }))
      }))

    it.scoped("corrupt bytes are a miss, never an error", () =>
      Effect.gen(function*() {
        const store: SharedTier.Store = { entries: new Map(), tagInvalidatedAt: new Map() }
        const tier = Layer.succeed(CacheTier.CacheTier, SharedTier.make({}, store))
        const cache = yield* build(Cache.layer({ namespace: "t" }).pipe(Layer.provide(tier)))
        store.entries.set("t:k", { bytes: "\u0000garbage{", staleUntil: Infinity })
        assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, Effect.succeed("fresh")), "fresh")
        assert.strictEqual((yield* cache.stats).decodeFailures, 1)
      }))

    it.scoped("a local value read with another schema is converted through the encoded form", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        yield* cache.set("k", Schema.NumberFromString, 5)
        assert.deepStrictEqual(
          yield* cache.get("k", Schema.NumberFromString.pipe(Schema.compose(Schema.Number))),
          Option.some(5)
        )
        assert.deepStrictEqual(yield* cache.get("k", Schema.Boolean), Option.none())
        assert.strictEqual((yield* cache.stats).decodeFailures, 2)
      }))

    it.scoped("set fails with ParseError when the value does not encode", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const exit = yield* Effect.exit(cache.set("k", Schema.Number.pipe(Schema.positive()), -1))
        assert.isTrue(Exit.isFailure(exit))
        assert.deepStrictEqual(yield* cache.get("k", Schema.Number), Option.none())
      }))
  })

  describe("invalidation", () => {
    it.scoped("invalidate drops the key from every tier", () =>
      Effect.gen(function*() {
        const fixture = makeFixture()
        const cache = yield* build(fixture.layer)
        yield* cache.set("a", Schema.Number, 1)
        yield* cache.set("b", Schema.Number, 2)
        yield* cache.invalidate("a")
        assert.deepStrictEqual(yield* cache.get("a", Schema.Number), Option.none())
        assert.deepStrictEqual(yield* cache.get("b", Schema.Number), Option.some(2))
        assert.isFalse(fixture.local.entries.has("test:a"))
        assert.strictEqual(yield* fixture.shared.get("test:a", Schema.Number), undefined)
      }))

    it.scoped("invalidateTags drops tagged entries in every tier, and only those", () =>
      Effect.gen(function*() {
        const fixture = makeFixture()
        const cache = yield* build(fixture.layer)
        yield* cache.set("a", Schema.Number, 1, { tags: ["user:1"] })
        yield* cache.set("b", Schema.Number, 2, { tags: ["user:2"] })
        yield* TestClock.adjust(1)
        yield* cache.invalidateTags(["user:1"])
        fixture.local.entries.clear()
        assert.deepStrictEqual(yield* cache.get("a", Schema.Number), Option.none())
        assert.deepStrictEqual(yield* cache.get("b", Schema.Number), Option.some(2))
      }))

    it.scoped("clear empties this namespace in every tier and leaves others alone", () =>
      Effect.gen(function*() {
        const local = LocalTier.make({ name: "l1" })
        const shared = SharedTier.make({ name: "l2" })
        const tiers = CacheTier.stack(
          Layer.succeed(CacheTier.CacheTier, local.tier),
          Layer.succeed(CacheTier.CacheTier, shared)
        )
        const ctx = yield* Layer.build(tiers)
        const a = yield* build(Cache.layer({ namespace: "a" }).pipe(Layer.provide(Layer.succeedContext(ctx))))
        const b = yield* build(Cache.layer({ namespace: "b" }).pipe(Layer.provide(Layer.succeedContext(ctx))))
        yield* a.set("k", Schema.String, "a")
        yield* b.set("k", Schema.String, "b")
        yield* a.clear
        assert.deepStrictEqual(yield* a.get("k", Schema.String), Option.none())
        assert.deepStrictEqual(yield* b.get("k", Schema.String), Option.some("b"))
        assert.deepStrictEqual([...local.entries.keys()], ["b:k"])
      }))

    it.scoped("namespaces isolate equal keys", () =>
      Effect.gen(function*() {
        const tiers = Layer.succeed(CacheTier.CacheTier, SharedTier.make())
        const ctx = yield* Layer.build(tiers)
        const a = yield* build(Cache.layer({ namespace: "a" }).pipe(Layer.provide(Layer.succeedContext(ctx))))
        const b = yield* build(Cache.layer({ namespace: "b" }).pipe(Layer.provide(Layer.succeedContext(ctx))))
        yield* a.set("k", Schema.String, "from a")
        assert.deepStrictEqual(yield* b.get("k", Schema.String), Option.none())
        assert.strictEqual(yield* b.getOrCompute("k", Schema.String, Effect.succeed("from b")), "from b")
        assert.deepStrictEqual(yield* a.get("k", Schema.String), Option.some("from a"))
      }))

    it.scoped("a compute running when its key is invalidated gives its result but does not store it", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const gate = yield* Deferred.make<void>()
        const caller = yield* Effect.fork(
          cache.getOrCompute("k", Schema.String, Effect.as(Deferred.await(gate), "old"))
        )
        yield* eventually(cache.stats, (stats) => stats.inFlight === 1)
        yield* cache.invalidate("k")
        yield* Deferred.succeed(gate, undefined)
        assert.strictEqual(yield* Fiber.join(caller), "old")
        assert.deepStrictEqual(yield* cache.get("k", Schema.String), Option.none())
      }))

    it.scoped("a compute running when a tag is invalidated is not stored", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const gate = yield* Deferred.make<void>()
        const compute = Effect.as(Deferred.await(gate), "old")
        const caller = yield* Effect.fork(cache.getOrCompute("k", Schema.String, compute, { tags: ["t"] }))
        yield* eventually(cache.stats, (stats) => stats.inFlight === 1)
        yield* cache.invalidateTags(["t"])
        yield* Deferred.succeed(gate, undefined)
        assert.strictEqual(yield* Fiber.join(caller), "old")
        assert.deepStrictEqual(yield* cache.get("k", Schema.String), Option.none())
      }))
  })

  describe("options", () => {
    it("an invalid namespace fails the build with a clear message", () =>
      Effect.gen(function*() {
        const exit = yield* Effect.exit(Effect.scoped(build(makeFixture({ namespace: "has space" }).layer)))
        assert.isTrue(Exit.isFailure(exit))
        assert.include(String(Exit.isFailure(exit) ? exit.cause : ""), "namespace")
      }).pipe(Effect.runPromise))

    it.scoped("an invalid per-call option is a defect naming the option", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const exit = yield* Effect.exit(cache.getOrCompute("k", Schema.Number, Effect.succeed(1), { ttl: -5 }))
        assert.include(String(Exit.isFailure(exit) ? exit.cause : ""), "ttl")
      }))
  })

  describe("observability", () => {
    it.scoped("the counters are also Effect Metrics tagged with the namespace", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture({ namespace: "metrics-test" }).layer)
        yield* cache.getOrCompute("k", Schema.String, Effect.succeed("v"))
        yield* cache.getOrCompute("k", Schema.String, Effect.succeed("v"))
        yield* cache.getOrCompute("k", Schema.String, Effect.succeed("v"))
        const stats = yield* cache.stats
        const hits = yield* Metric.value(Cache.metrics.hits.pipe(Metric.tagged("namespace", "metrics-test")))
        const misses = yield* Metric.value(
          Cache.metrics.misses.pipe(Metric.tagged("namespace", "metrics-test"))
        )
        assert.strictEqual(stats.hits, 2)
        assert.strictEqual(hits.count, 2)
        assert.strictEqual(misses.count, 1)
        const l1Hits = yield* Metric.value(
          Cache.metrics.tier.hits.pipe(
            Metric.tagged("namespace", "metrics-test"),
            Metric.tagged("tier", "l1")
          )
        )
        assert.strictEqual(l1Hits.count, 2)
      }))

    it.scoped("operations run in spans when a tracer is installed", () =>
      Effect.gen(function*() {
        const names: Array<string> = []
        const tracer = Tracer.make({
          span: (name, parent, context, links, startTime, kind) => {
            names.push(name)
            return new RecordingSpan(name, parent, context, links, startTime, kind)
          },
          context: (f) => f()
        })
        const cache = yield* build(makeFixture().layer)
        yield* Effect.gen(function*() {
          yield* cache.getOrCompute("k", Schema.String, Effect.succeed("v"))
          yield* cache.set("k", Schema.String, "w")
          yield* cache.get("other", Schema.String)
          yield* cache.invalidate("k")
          yield* cache.invalidateTags(["t"])
          yield* cache.clear
        }).pipe(Effect.withTracer(tracer))
        assert.deepStrictEqual(names, [
          "layercake.getOrCompute",
          "layercake.set",
          "layercake.get",
          "layercake.invalidate",
          "layercake.invalidateTags",
          "layercake.clear"
        ])
      }))

    it.scoped("per-call tags are copied: mutating the caller's array changes nothing", () =>
      Effect.gen(function*() {
        const fixture = makeFixture()
        const cache = yield* build(fixture.layer)
        const tags = ["a"]
        yield* cache.set("k", Schema.String, "v", { tags })
        tags[0] = "b"
        assert.deepStrictEqual(fixture.local.entries.get("test:k")!.tags, ["test:a"])
      }))
  })

  describe("scope", () => {
    it.effect("a cache used after its scope closed fails with a clear defect instead of hanging", () =>
      Effect.gen(function*() {
        const cache = yield* Effect.scoped(build(makeFixture().layer))
        const exit = yield* Effect.exit(cache.getOrCompute("k", Schema.String, Effect.succeed("v")))
        assert.include(String(exit), "used after its layer's scope closed")
      }))

    it.effect("no fiber is left running after the layer's scope closes", () =>
      Effect.gen(function*() {
        const interrupted = yield* Deferred.make<void>()
        const started = yield* Deferred.make<void>()
        yield* Effect.scoped(Effect.gen(function*() {
          const cache = yield* build(makeFixture().layer)
          const compute = Deferred.succeed(started, undefined).pipe(
            Effect.zipRight(Effect.never),
            Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined))
          )
          yield* Effect.fork(cache.getOrCompute("k", Schema.String, compute, { softTimeout: 0 }))
          yield* Deferred.await(started)
        }))
        assert.isTrue(yield* Deferred.isDone(interrupted))
      }))
  })
})
