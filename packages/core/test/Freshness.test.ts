import { assert, describe, it } from "@effect/vitest"
import type { CacheTier } from "@layercake/core"
import { Cache } from "@layercake/core"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import { eventually } from "./utils/eventually.js"
import { counted, makeFixture } from "./utils/fixtures.js"

const build = (layer: Layer.Layer<Cache.Cache>) => Effect.map(Layer.build(layer), Context.get(Cache.Cache))
const idle = (cache: Cache.Cache) => eventually(cache.stats, (stats) => stats.inFlight === 0)

/** A compute returning "v1", "v2", ... and failing while `failing` is set. */
const versioned = Effect.gen(function*() {
  const runs = yield* Ref.make(0)
  const failing = yield* Ref.make(false)
  const compute = Effect.flatMap(Ref.get(failing), (fail) =>
    fail
      ? Effect.zipRight(Ref.update(runs, (n) => n + 1), Effect.fail("source down" as const))
      : Effect.map(Ref.updateAndGet(runs, (n) => n + 1), (n) => `v${n}`))
  return { runs, failing, compute }
})

describe("freshness", () => {
  describe("refreshAfter", () => {
    const options: Cache.EntryOptions = { ttl: "60 seconds", refreshAfter: "10 seconds" }

    it.scoped("before refreshAfter: the value, no refresh; from refreshAfter: the value at once and one refresh", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const { compute, runs } = yield* versioned
        assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, compute, options), "v1")
        yield* TestClock.adjust("9999 millis")
        assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, compute, options), "v1")
        assert.strictEqual((yield* cache.stats).refreshes, 0)
        yield* TestClock.adjust("1 millis")
        assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, compute, options), "v1")
        yield* idle(cache)
        assert.strictEqual(yield* Ref.get(runs), 2)
        assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, compute, options), "v2")
        const stats = yield* cache.stats
        assert.strictEqual(stats.refreshes, 1)
        assert.strictEqual(stats.refreshSuccesses, 1)
      }))

    it.scoped("1000 concurrent readers during a refresh: all get the cached value, one refresh runs", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        yield* cache.set("k", Schema.String, "old", options)
        yield* TestClock.adjust("10 seconds")
        const gate = yield* Deferred.make<void>()
        const runs = yield* Ref.make(0)
        const compute = Ref.update(runs, (n) => n + 1).pipe(Effect.zipRight(Deferred.await(gate)), Effect.as("new"))
        const results = yield* Effect.forEach(
          Array.from({ length: 1000 }),
          () => cache.getOrCompute("k", Schema.String, compute, options),
          { concurrency: "unbounded" }
        )
        assert.deepStrictEqual(new Set(results), new Set(["old"]))
        yield* Deferred.succeed(gate, undefined)
        yield* idle(cache)
        assert.strictEqual(yield* Ref.get(runs), 1)
        assert.strictEqual((yield* cache.stats).refreshes, 1)
        assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, compute, options), "new")
      }))

    it.scoped("a failed refresh keeps the old value, is counted, and is not retried at once", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const { compute, failing, runs } = yield* versioned
        yield* cache.getOrCompute("k", Schema.String, compute, options)
        yield* Ref.set(failing, true)
        yield* TestClock.adjust("10 seconds")
        assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, compute, options), "v1")
        yield* idle(cache)
        assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, compute, options), "v1")
        yield* idle(cache)
        assert.strictEqual(yield* Ref.get(runs), 2)
        const stats = yield* cache.stats
        assert.strictEqual(stats.refreshFailures, 1)
        yield* TestClock.adjust("5 seconds")
        yield* Ref.set(failing, false)
        assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, compute, options), "v1")
        yield* idle(cache)
        assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, compute, options), "v3")
      }))

    it.scoped("the refresh runs in the cache's scope: an interrupted caller does not stop it", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        yield* cache.set("k", Schema.String, "old", options)
        yield* TestClock.adjust("10 seconds")
        const gate = yield* Deferred.make<void>()
        const caller = yield* Effect.fork(
          cache.getOrCompute("k", Schema.String, Effect.as(Deferred.await(gate), "new"), options).pipe(
            Effect.zipRight(Effect.never)
          )
        )
        yield* eventually(cache.stats, (stats) => stats.refreshes === 1)
        yield* Fiber.interrupt(caller)
        yield* Deferred.succeed(gate, undefined)
        yield* idle(cache)
        assert.deepStrictEqual(yield* cache.get("k", Schema.String), Option.some("new"))
      }))

    it.scoped("refreshJitter spreads the refresh points of keys written together", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const jittered = { ...options, refreshJitter: 0.5 }
        const keys = Array.from({ length: 40 }, (_, i) => `k${i}`)
        for (const key of keys) yield* cache.set(key, Schema.String, "v", jittered)
        yield* TestClock.adjust("7500 millis")
        for (const key of keys) yield* cache.getOrCompute(key, Schema.String, Effect.succeed("r"), jittered)
        yield* idle(cache)
        const early = (yield* cache.stats).refreshes
        assert.isTrue(early > 5 && early < 35, `refreshed early: ${early}`)
      }))
  })

  describe("staleWhileRevalidate", () => {
    const options: Cache.EntryOptions = { ttl: "60 seconds", staleWhileRevalidate: "30 seconds" }

    it.scoped("inside the window: the stale value at once and one background refresh; at its end: a miss", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const { compute } = yield* versioned
        yield* cache.getOrCompute("k", Schema.String, compute, options)
        yield* TestClock.adjust("60 seconds")
        assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, compute, options), "v1")
        assert.strictEqual((yield* cache.stats).staleHits, 1)
        yield* idle(cache)
        assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, compute, options), "v2")
        yield* TestClock.adjust("90 seconds")
        assert.deepStrictEqual(yield* cache.get("k", Schema.String), Option.none())
        assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, compute, options), "v3")
      }))

    it.scoped("the last millisecond of the window is stale, the next one is gone", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        yield* cache.set("k", Schema.String, "old", options)
        yield* TestClock.adjust("89999 millis")
        assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, Effect.fail("refresh fails"), options), "old")
        yield* idle(cache)
        yield* TestClock.adjust("1 millis")
        assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, Effect.succeed("new"), options), "new")
      }))

    it.scoped("get serves a stale value within the layer's window and starts nothing", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture({ staleWhileRevalidate: "30 seconds" }).layer)
        yield* cache.set("k", Schema.String, "old", { ttl: "60 seconds" })
        yield* TestClock.adjust("70 seconds")
        assert.deepStrictEqual(yield* cache.get("k", Schema.String), Option.some("old"))
        const stats = yield* cache.stats
        assert.strictEqual(stats.staleHits, 1)
        assert.strictEqual(stats.refreshes, 0)
      }))
  })

  describe("staleIfError", () => {
    const options: Cache.EntryOptions = { ttl: "60 seconds", staleIfError: "1 hour", staleIfErrorRetry: "5 seconds" }

    it.scoped("a failing source gives the stale value, then is retried at most once per interval", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const { compute, failing, runs } = yield* versioned
        yield* cache.getOrCompute("k", Schema.String, compute, options)
        yield* Ref.set(failing, true)
        yield* TestClock.adjust("61 seconds")
        assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, compute, options), "v1")
        assert.strictEqual(yield* Ref.get(runs), 2)
        for (let i = 0; i < 10; i++) {
          assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, compute, options), "v1")
        }
        assert.strictEqual(yield* Ref.get(runs), 2)
        yield* TestClock.adjust("5 seconds")
        assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, compute, options), "v1")
        assert.strictEqual(yield* Ref.get(runs), 3)
        yield* Ref.set(failing, false)
        yield* TestClock.adjust("5 seconds")
        assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, compute, options), "v4")
        const stats = yield* cache.stats
        assert.strictEqual(stats.staleIfErrorServed, 12)
        assert.strictEqual(stats.computeFailures, 2)
      }))

    it.scoped("without a stale value the failure reaches the caller", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const exit = yield* Effect.exit(cache.getOrCompute("k", Schema.String, Effect.fail("boom"), options))
        assert.deepStrictEqual(exit, Exit.fail("boom"))
      }))

    it.scoped("after the window the stale value is gone and the failure reaches the caller", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        yield* cache.set("k", Schema.String, "old", options)
        yield* TestClock.adjust("3660 seconds")
        const exit = yield* Effect.exit(cache.getOrCompute("k", Schema.String, Effect.fail("boom"), options))
        assert.deepStrictEqual(exit, Exit.fail("boom"))
      }))
  })

  describe("timeouts", () => {
    it.scoped("soft timeout: the stale value after softTimeout; the compute goes on and stores its result", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const options: Cache.EntryOptions = { ttl: "60 seconds", staleIfError: "1 hour", softTimeout: "1 second" }
        yield* cache.set("k", Schema.String, "old", options)
        yield* TestClock.adjust("61 seconds")
        const slow = Effect.as(Effect.sleep("10 seconds"), "new")
        const caller = yield* Effect.fork(cache.getOrCompute("k", Schema.String, slow, options))
        yield* eventually(cache.stats, (stats) => stats.computes === 1)
        yield* TestClock.adjust("1 second")
        assert.strictEqual(yield* Fiber.join(caller), "old")
        assert.strictEqual((yield* cache.stats).softTimeouts, 1)
        yield* TestClock.adjust("9 seconds")
        yield* idle(cache)
        assert.deepStrictEqual(yield* cache.get("k", Schema.String), Option.some("new"))
      }))

    it.scoped("soft timeout does not apply without a stale value", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const caller = yield* Effect.fork(
          cache.getOrCompute("k", Schema.String, Effect.as(Effect.sleep("3 seconds"), "v"), { softTimeout: "1 second" })
        )
        yield* eventually(cache.stats, (stats) => stats.computes === 1)
        yield* TestClock.adjust("3 seconds")
        assert.strictEqual(yield* Fiber.join(caller), "v")
      }))

    it.scoped("hard timeout: one waiter interrupted, the other times out, then the compute is interrupted", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const interrupted = yield* Deferred.make<void>()
        const compute = Effect.never.pipe(Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined)))
        const options: Cache.EntryOptions = { hardTimeout: "2 seconds" }
        const first = yield* Effect.fork(cache.getOrCompute("k", Schema.String, compute, options))
        const second = yield* Effect.fork(cache.getOrCompute("k", Schema.String, compute, options))
        yield* eventually(cache.stats, (stats) => stats.coalesced === 1)
        yield* Fiber.interrupt(first)
        assert.isFalse(yield* Deferred.isDone(interrupted))
        yield* TestClock.adjust("2 seconds")
        const exit = yield* Fiber.await(second)
        const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
        assert.isTrue(Option.isSome(error) && error.value instanceof Cache.ComputeTimeoutError)
        assert.strictEqual(Option.isSome(error) ? (error.value as Cache.ComputeTimeoutError).key : "", "k")
        assert.include(Option.isSome(error) ? String(error.value.message) : "", "\"k\" did not finish within 2000 ms")
        yield* Deferred.await(interrupted)
        assert.strictEqual((yield* cache.stats).hardTimeouts, 1)
      }))

    it.scoped("hard timeout is measured from the start of the shared compute", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const options: Cache.EntryOptions = { hardTimeout: "2 seconds" }
        const first = yield* Effect.fork(cache.getOrCompute("k", Schema.String, Effect.never, options))
        yield* eventually(cache.stats, (stats) => stats.computes === 1)
        yield* TestClock.adjust("1500 millis")
        const late = yield* Effect.fork(cache.getOrCompute("k", Schema.String, Effect.never, options))
        yield* eventually(cache.stats, (stats) => stats.coalesced === 1)
        yield* TestClock.adjust("500 millis")
        assert.isTrue(Exit.isFailure(yield* Fiber.await(first)))
        assert.isTrue(Exit.isFailure(yield* Fiber.await(late)))
      }))

    it.scoped("hard timeout with a stale value inside staleIfError serves the stale value", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const options: Cache.EntryOptions = { ttl: "1 minute", staleIfError: "1 hour", hardTimeout: "2 seconds" }
        yield* cache.set("k", Schema.String, "old", options)
        yield* TestClock.adjust("2 minutes")
        const caller = yield* Effect.fork(cache.getOrCompute("k", Schema.String, Effect.never, options))
        yield* eventually(cache.stats, (stats) => stats.computes === 1)
        yield* TestClock.adjust("2 seconds")
        assert.strictEqual(yield* Fiber.join(caller), "old")
      }))
  })

  describe("negative caching", () => {
    it.scoped("with errorTtl a typed failure is cached and returned without recomputing", () =>
      Effect.gen(function*() {
        const fixture = makeFixture()
        const cache = yield* build(fixture.layer)
        const runs = yield* Ref.make(0)
        const compute = Effect.zipRight(Ref.update(runs, (n) => n + 1), Effect.fail({ _tag: "NotFound" as const }))
        const NotFound = Schema.Struct({ _tag: Schema.Literal("NotFound") })
        const options: Cache.EntryOptions = { errorTtl: "10 seconds", errorSchema: NotFound }
        for (let i = 0; i < 3; i++) {
          assert.deepStrictEqual(
            yield* Effect.exit(cache.getOrCompute("k", Schema.String, compute, options)),
            Exit.fail({ _tag: "NotFound" as const })
          )
        }
        assert.strictEqual(yield* Ref.get(runs), 1)
        assert.strictEqual((yield* cache.stats).negativeHits, 2)
        // the failure is shared with the fleet, readable only with its error schema
        assert.strictEqual(yield* fixture.shared.get("test:k", Schema.String), undefined)
        const shared = yield* fixture.shared.get("test:k", Schema.String, NotFound)
        assert.deepStrictEqual((shared as CacheTier.Entry).value, { _tag: "NotFound" })
        assert.isTrue((shared as CacheTier.Entry).negative)
        yield* TestClock.adjust("10 seconds")
        yield* Effect.exit(cache.getOrCompute("k", Schema.String, compute, options))
        assert.strictEqual(yield* Ref.get(runs), 2)
      }))

    it.scoped("errorTtl never hides a servable value: failed refreshes and stale-if-error computes are not cached", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const { compute, failing } = yield* versioned
        const options: Cache.EntryOptions = {
          ttl: "60 seconds",
          refreshAfter: "10 seconds",
          staleIfError: "1 hour",
          staleIfErrorRetry: "1 second",
          errorTtl: "1 minute",
          errorSchema: Schema.Literal("source down")
        }
        yield* cache.getOrCompute("k", Schema.String, compute, options)
        yield* Ref.set(failing, true)
        yield* TestClock.adjust("10 seconds")
        assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, compute, options), "v1")
        yield* idle(cache)
        assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, compute, options), "v1")
        yield* TestClock.adjust("60 seconds")
        assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, compute, options), "v1")
        yield* TestClock.adjust("2 seconds")
        assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, compute, options), "v1")
        assert.strictEqual((yield* cache.stats).negativeHits, 0)
      }))

    it.scoped("without errorTtl failures are never cached; defects never are", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const { compute, runs } = yield* counted("x")
        const failing = Effect.zipRight(compute, Effect.fail("e"))
        yield* Effect.exit(cache.getOrCompute("k", Schema.String, failing))
        yield* Effect.exit(cache.getOrCompute("k", Schema.String, failing))
        const dying: Effect.Effect<string, string> = Effect.zipRight(compute, Effect.die("bug"))
        yield* Effect.exit(
          cache.getOrCompute("d", Schema.String, dying, { errorTtl: "1 minute", errorSchema: Schema.String })
        )
        yield* Effect.exit(
          cache.getOrCompute("d", Schema.String, dying, { errorTtl: "1 minute", errorSchema: Schema.String })
        )
        assert.strictEqual(yield* Ref.get(runs), 4)
      }))
  })

  describe("one coalescing domain per key", () => {
    it.scoped("a miss joins a running refresh instead of computing again", () =>
      Effect.gen(function*() {
        const fixture = makeFixture()
        const cache = yield* build(fixture.layer)
        const options: Cache.EntryOptions = { ttl: "60 seconds", refreshAfter: "10 seconds" }
        yield* cache.set("k", Schema.String, "old", options)
        yield* TestClock.adjust("10 seconds")
        const gate = yield* Deferred.make<void>()
        const runs = yield* Ref.make(0)
        const compute = Ref.update(runs, (n) => n + 1).pipe(Effect.zipRight(Deferred.await(gate)), Effect.as("new"))
        assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, compute, options), "old")
        fixture.local.entries.clear()
        yield* fixture.shared.delete(["test:k"])
        const miss = yield* Effect.fork(cache.getOrCompute("k", Schema.String, compute, options))
        yield* eventually(cache.stats, (stats) => stats.coalesced === 1)
        yield* Deferred.succeed(gate, undefined)
        assert.strictEqual(yield* Fiber.join(miss), "new")
        assert.strictEqual(yield* Ref.get(runs), 1)
      }))

    it.effect("closing the layer's scope interrupts in-flight refreshes", () =>
      Effect.gen(function*() {
        const interrupted = yield* Deferred.make<void>()
        const started = yield* Deferred.make<void>()
        yield* Effect.scoped(Effect.gen(function*() {
          const cache = yield* build(makeFixture().layer)
          const options: Cache.EntryOptions = { ttl: "60 seconds", refreshAfter: "10 seconds" }
          yield* cache.set("k", Schema.String, "old", options)
          yield* TestClock.adjust("10 seconds")
          const refresh = Deferred.succeed(started, undefined).pipe(
            Effect.zipRight(Effect.never),
            Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined))
          )
          yield* cache.getOrCompute("k", Schema.String, refresh, options)
          yield* Deferred.await(started)
        }))
        assert.isTrue(yield* Deferred.isDone(interrupted))
      }))

    it.scoped("a defect in a refresh is caught, logged and counted; the cache keeps working", () =>
      Effect.gen(function*() {
        const cache = yield* build(makeFixture().layer)
        const options: Cache.EntryOptions = { ttl: "60 seconds", refreshAfter: "10 seconds" }
        yield* cache.set("k", Schema.String, "old", options)
        yield* TestClock.adjust("10 seconds")
        assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, Effect.die("bug"), options), "old")
        yield* idle(cache)
        assert.strictEqual((yield* cache.stats).refreshFailures, 1)
        assert.strictEqual(yield* cache.getOrCompute("other", Schema.String, Effect.succeed("fine")), "fine")
      }))
  })
})

describe("refresh", () => {
  it.scoped("recomputes in the background, outliving its caller, and stores the result in every tier", () =>
    Effect.gen(function*() {
      const cache = yield* build(makeFixture().layer)
      const { compute, runs } = yield* versioned
      assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, compute), "v1")
      const slow = Effect.zipRight(Effect.sleep("1 second"), compute)
      // returns at once; the refresh runs in a fiber of the layer's scope
      yield* cache.refresh("k", Schema.String, slow)
      assert.strictEqual(yield* cache.getOrCompute("k", Schema.String, compute), "v1")
      yield* TestClock.adjust("1 second")
      yield* idle(cache)
      assert.strictEqual(yield* Ref.get(runs), 2)
      assert.deepStrictEqual(yield* cache.get("k", Schema.String), Option.some("v2"))
      assert.strictEqual((yield* cache.stats).refreshes, 1)
    }))

  it.scoped("joins a compute of the key already running instead of starting another", () =>
    Effect.gen(function*() {
      const cache = yield* build(makeFixture().layer)
      const { compute, runs } = yield* versioned
      const slow = Effect.zipRight(Effect.sleep("1 second"), compute)
      const caller = yield* Effect.fork(cache.getOrCompute("k", Schema.String, slow))
      yield* Effect.yieldNow()
      yield* cache.refresh("k", Schema.String, slow)
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* Fiber.join(caller), "v1")
      yield* idle(cache)
      assert.strictEqual(yield* Ref.get(runs), 1)
    }))

  it.scoped("a failing refresh keeps the cached value", () =>
    Effect.gen(function*() {
      const cache = yield* build(makeFixture().layer)
      const { compute, failing } = yield* versioned
      yield* cache.getOrCompute("k", Schema.String, compute)
      yield* Ref.set(failing, true)
      yield* cache.refresh("k", Schema.String, compute)
      yield* idle(cache)
      assert.deepStrictEqual(yield* cache.get("k", Schema.String), Option.some("v1"))
      assert.strictEqual((yield* cache.stats).refreshFailures, 1)
    }))
})
