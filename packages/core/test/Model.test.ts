import { describe, it } from "@effect/vitest"
import { Cache } from "@layercake/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import * as TestContext from "effect/TestContext"
import fc from "fast-check"
import { expect } from "vitest"
import { eventually } from "./utils/eventually.js"
import { makeFixture } from "./utils/fixtures.js"

const run = <A>(effect: Effect.Effect<A, unknown, Scope.Scope>) =>
  Effect.runPromise(
    Effect.scoped(effect).pipe(Effect.provide(TestContext.TestContext), Logger.withMinimumLogLevel(LogLevel.None))
  )

const build = (layer: Layer.Layer<Cache.Cache>) => Effect.map(Layer.build(layer), Context.get(Cache.Cache))

// -----------------------------------------------------------------------------
// The contract for one process: set / get / getOrCompute / invalidate / tags / clear over time

const key = fc.constantFrom("a", "b", "c", "d")
const tag = fc.constantFrom("red", "blue")
const command = fc.oneof(
  fc.record({ op: fc.constant("set" as const), key, value: fc.integer(), ttl: fc.integer({ min: 1, max: 50 }), tag }),
  fc.record({ op: fc.constant("get" as const), key }),
  fc.record({ op: fc.constant("getOrCompute" as const), key, value: fc.integer() }),
  fc.record({ op: fc.constant("invalidate" as const), key }),
  fc.record({ op: fc.constant("invalidateTag" as const), tag }),
  fc.record({ op: fc.constant("clear" as const) }),
  fc.record({ op: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 30 }) }),
  fc.record({ op: fc.constant("dropL1" as const) })
)

describe("model", () => {
  it("the cache behaves like a map with expiry (random sequences)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 40 }), (commands) =>
        run(Effect.gen(function*() {
          const fixture = makeFixture({ defaultTtl: 20 })
          const cache = yield* build(fixture.layer)
          const model = new Map<string, { value: number; freshUntil: number; tag: string | undefined }>()
          let now = 0
          const modelGet = (k: string) => {
            const found = model.get(k)
            return found !== undefined && now < found.freshUntil ? Option.some(found.value) : Option.none()
          }
          for (const c of commands) {
            switch (c.op) {
              case "set":
                yield* cache.set(c.key, Schema.Number, c.value, { ttl: c.ttl, tags: [c.tag] })
                model.set(c.key, { value: c.value, freshUntil: now + c.ttl, tag: c.tag })
                break
              case "get":
                expect(yield* cache.get(c.key, Schema.Number)).toStrictEqual(modelGet(c.key))
                break
              case "getOrCompute": {
                const expected = Option.getOrElse(modelGet(c.key), () => {
                  model.set(c.key, { value: c.value, freshUntil: now + 20, tag: undefined })
                  return c.value
                })
                expect(yield* cache.getOrCompute(c.key, Schema.Number, Effect.succeed(c.value))).toBe(expected)
                break
              }
              case "invalidate":
                yield* cache.invalidate(c.key)
                model.delete(c.key)
                break
              case "invalidateTag":
                yield* cache.invalidateTags([c.tag])
                for (const [k, v] of model) if (v.tag === c.tag) model.delete(k)
                break
              case "clear":
                yield* cache.clear
                model.clear()
                break
              case "advance":
                yield* TestClock.adjust(c.ms)
                now += c.ms
                break
              case "dropL1":
                // the next reads go through the shared tier (encode/decode, tag timestamps)
                fixture.local.entries.clear()
                break
            }
          }
        }))),
      { numRuns: 150 }
    )
  })

  // ---------------------------------------------------------------------------
  // The freshness lifecycle of one key against a reference model

  const lifecycleOptions = fc.record({
    ttl: fc.integer({ min: 1, max: 20 }),
    refreshAfter: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
    staleWhileRevalidate: fc.integer({ min: 0, max: 10 }),
    staleIfError: fc.integer({ min: 0, max: 30 }),
    staleIfErrorRetry: fc.integer({ min: 1, max: 5 })
  })
  const step = fc.oneof(
    fc.record({ op: fc.constant("read" as const), fail: fc.boolean() }),
    fc.record({ op: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 15 }) })
  )

  it("refresh-ahead, stale-while-revalidate and stale-if-error follow the lifecycle model", async () => {
    await fc.assert(
      fc.asyncProperty(
        lifecycleOptions,
        fc.array(step, { maxLength: 40 }),
        (options, steps) =>
          run(Effect.gen(function*() {
            const cache = yield* build(makeFixture().layer)
            const runs = yield* Ref.make(0)
            const failing = yield* Ref.make(false)
            const compute = Effect.flatMap(
              Ref.updateAndGet(runs, (n) => n + 1),
              (n) => Effect.flatMap(Ref.get(failing), (fail) => fail ? Effect.fail(`e${n}`) : Effect.succeed(`v${n}`))
            )
            const entryOptions: Cache.EntryOptions = options

            // reference model
            const refreshing = options.refreshAfter !== undefined && options.refreshAfter < options.ttl
            const throttles = options.staleIfError > 0 || options.staleWhileRevalidate > 0 || refreshing
            let entry: { value: string; createdAt: number; freshUntil: number; staleUntil: number } | undefined
            let retryAfter = 0
            let runsSoFar = 0
            let now = 0
            const computeModel = (fail: boolean): Either.Either<string, string> => {
              runsSoFar++
              if (fail) {
                if (throttles) retryAfter = now + options.staleIfErrorRetry
                return Either.left(`e${runsSoFar}`)
              }
              retryAfter = 0
              const freshUntil = now + options.ttl
              entry = {
                value: `v${runsSoFar}`,
                createdAt: now,
                freshUntil,
                staleUntil: freshUntil + Math.max(options.staleWhileRevalidate, options.staleIfError)
              }
              return Either.right(entry.value)
            }
            const readModel = (fail: boolean): Either.Either<string, string> => {
              if (entry !== undefined && now >= entry.staleUntil) entry = undefined
              if (entry === undefined) return computeModel(fail)
              const current = entry
              if (now < current.freshUntil) {
                if (refreshing && now >= current.createdAt + options.refreshAfter! && now >= retryAfter) {
                  computeModel(fail)
                }
                return Either.right(current.value)
              }
              const staleFor = now - current.freshUntil
              if (staleFor < options.staleWhileRevalidate) {
                if (now >= retryAfter) computeModel(fail)
                return Either.right(current.value)
              }
              if (staleFor < options.staleIfError) {
                if (now < retryAfter) return Either.right(current.value)
                const result = computeModel(fail)
                return Either.isLeft(result) ? Either.right(current.value) : result
              }
              entry = undefined
              return computeModel(fail)
            }

            for (const s of steps) {
              if (s.op === "advance") {
                yield* TestClock.adjust(s.ms)
                now += s.ms
                continue
              }
              yield* Ref.set(failing, s.fail)
              const actual = yield* Effect.either(cache.getOrCompute("k", Schema.String, compute, entryOptions))
              yield* eventually(cache.stats, (stats) => stats.inFlight === 0)
              const expected = readModel(s.fail)
              expect(actual).toStrictEqual(expected)
              expect(yield* Ref.get(runs)).toBe(runsSoFar)
            }
          }))
      ),
      { numRuns: 200 }
    )
  })
})
