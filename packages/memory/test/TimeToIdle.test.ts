import { assert, describe, it } from "@effect/vitest"
import { Cache, CacheTier } from "@layercake/core"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as fc from "effect/FastCheck"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import { MemoryTier } from "../src/index.js"
import { type Input, resolve } from "../src/internal/options.js"
import { Store } from "../src/internal/store.js"
import { fromStore } from "../src/internal/tier.js"

const Value = Schema.Struct({ n: Schema.Number })

/** An entry written at `now` that lives until `staleUntil` (a minute by default). */
const entry = (n: number, now: number, staleUntil = now + 60_000): CacheTier.Entry<{ readonly n: number }> => ({
  value: { n },
  schema: Value,
  createdAt: now,
  freshUntil: staleUntil,
  staleUntil,
  tags: [],
  negative: false
})

const inspectable = (input: Input) => {
  const options = resolve(input)
  const store = new Store(options)
  return { store, tier: fromStore(store, options) }
}

const valueOf = (result: CacheTier.ReadResult<{ readonly n: number }>): number | undefined =>
  result === undefined || result instanceof CacheTier.DecodeFailure ? undefined : result.value.n

describe("MemoryTier timeToIdle", () => {
  for (const policy of ["tinylfu", "lru"] as const) {
    describe(policy, () => {
      it.effect("an entry neither read nor written for timeToIdle is a miss, and its slot is freed", () =>
        Effect.gen(function*() {
          const { store, tier } = inspectable({ policy, timeToIdle: "1 second" })
          yield* tier.set("idle", entry(1, 0))
          yield* tier.set("read", entry(2, 0))
          yield* TestClock.adjust(999)
          assert.strictEqual(valueOf(yield* tier.get("read", Value)), 2, "just before its deadline")
          yield* TestClock.adjust(1)
          assert.strictEqual(store.size, 2, "nothing is removed until it is seen")
          assert.strictEqual(valueOf(yield* tier.get("idle", Value)), undefined, "at its deadline")
          assert.strictEqual(store.slotOf("idle"), undefined)
          assert.strictEqual(store.size, 1)
          assert.strictEqual(valueOf(yield* tier.get("read", Value)), 2, "renewed at 999")
        }))

      it.effect("each read hit renews it", () =>
        Effect.gen(function*() {
          const { store, tier } = inspectable({ policy, timeToIdle: "1 second" })
          yield* tier.set("k", entry(1, 0))
          for (let i = 0; i < 20; i++) {
            yield* TestClock.adjust(900)
            assert.strictEqual(valueOf(yield* tier.get("k", Value)), 1, `read ${i} at ${(i + 1) * 900}`)
          }
          yield* TestClock.adjust(1_000)
          assert.strictEqual(valueOf(yield* tier.get("k", Value)), undefined)
          assert.strictEqual(store.size, 0)
        }))

      it.effect("each write renews it; a miss does not", () =>
        Effect.gen(function*() {
          const { tier } = inspectable({ policy, timeToIdle: "1 second" })
          yield* tier.set("k", entry(1, 0))
          yield* TestClock.adjust(900)
          yield* tier.set("k", entry(2, 900))
          yield* TestClock.adjust(900)
          yield* tier.setMany([["k", entry(3, 1_800)]])
          yield* TestClock.adjust(900)
          assert.strictEqual(valueOf(yield* tier.get("k", Value)), 3, "900 ms after the last write")
          yield* TestClock.adjust(999)
          assert.strictEqual(valueOf(yield* tier.get("other", Value)), undefined)
          yield* TestClock.adjust(1)
          assert.strictEqual(valueOf(yield* tier.get("k", Value)), undefined, "idle since 2 700")
        }))

      it.effect("never keeps an entry past its staleUntil", () =>
        Effect.gen(function*() {
          const { store, tier } = inspectable({ policy, timeToIdle: "1 second" })
          yield* tier.set("k", entry(1, 0, 2_500))
          for (const at of [900, 1_800, 2_499]) {
            yield* TestClock.setTime(at)
            assert.strictEqual(valueOf(yield* tier.get("k", Value)), 1, `at ${at}`)
          }
          yield* TestClock.setTime(2_500)
          assert.strictEqual(valueOf(yield* tier.get("k", Value)), undefined, "its ttl is over, read 1 ms ago")
          assert.strictEqual(store.size, 0)
          // a write renews the idle deadline only up to the entry's own end
          yield* tier.set("k", entry(2, 2_500, 2_800))
          yield* TestClock.setTime(2_799)
          assert.strictEqual(valueOf(tier.sync!.get("k", Value, undefined, 2_799)), 2)
          assert.strictEqual(valueOf(tier.sync!.get("k", Value, undefined, 2_800)), undefined)
        }))

      it.effect("keeps the deadlines when the store grows and after clear", () =>
        Effect.gen(function*() {
          const { store, tier } = inspectable({ policy, timeToIdle: "1 second" })
          const keys = Array.from({ length: 300 }, (_, i) => `k${i}`)
          yield* tier.setMany(keys.map((key, i) => [key, entry(i, 0)]))
          yield* TestClock.adjust(900)
          const even = keys.filter((_, i) => i % 2 === 0)
          assert.deepStrictEqual((yield* tier.getMany(even, Value)).map(valueOf), even.map((_, i) => 2 * i))
          yield* TestClock.adjust(100)
          const found = yield* tier.getMany(keys, Value)
          assert.deepStrictEqual(found.map(valueOf), keys.map((_, i) => (i % 2 === 0 ? i : undefined)))
          assert.strictEqual(store.size, 150)
          yield* tier.clear("")
          yield* tier.set("k", entry(1, 1_000))
          yield* TestClock.adjust(999)
          assert.strictEqual(valueOf(yield* tier.get("k", Value)), 1)
          yield* TestClock.adjust(1_000)
          assert.strictEqual(valueOf(yield* tier.get("k", Value)), undefined)
        }))

      it.effect("a full store lets idle entries go before live ones", () =>
        Effect.gen(function*() {
          const { store, tier } = inspectable({ policy, maxEntries: 3, timeToIdle: "1 second" })
          yield* tier.set("a", entry(1, 0))
          yield* TestClock.adjust(600)
          yield* tier.setMany([["b", entry(2, 600)], ["c", entry(3, 600)]])
          yield* TestClock.adjust(500)
          // at 1 100 "a" is idle, "b" and "c" are not
          yield* tier.set("d", entry(4, 1_100))
          assert.strictEqual(store.slotOf("a"), undefined)
          assert.deepStrictEqual(
            [yield* tier.get("b", Value), yield* tier.get("c", Value), yield* tier.get("d", Value)].map(valueOf),
            [2, 3, 4]
          )
        }))
    })
  }

  it.effect.prop(
    "the sync path and the Effect path (get, getMany) see and renew the same deadlines",
    {
      commands: fc.array(
        fc.oneof(
          fc.record({ op: fc.constant("advance" as const), millis: fc.integer({ min: 0, max: 700 }) }),
          fc.record({
            op: fc.constant("set" as const),
            key: fc.integer({ min: 0, max: 2 }),
            ttl: fc.integer({ min: 1, max: 5_000 })
          }),
          fc.record({
            op: fc.constantFrom("get" as const, "getMany" as const, "syncGet" as const),
            key: fc.integer({ min: 0, max: 2 })
          })
        ),
        { maxLength: 60 }
      )
    },
    ({ commands }) =>
      Effect.gen(function*() {
        const timeToIdle = 1_000
        const { tier } = inspectable({ timeToIdle, maxEntries: 1_000 })
        // the model: per key, its value and when it is gone
        const model = new Map<string, { readonly n: number; readonly staleUntil: number; idleUntil: number }>()
        let now = 0
        let counter = 0
        yield* TestClock.setTime(0)
        const expect = (key: string): number | undefined => {
          const kept = model.get(key)
          if (kept === undefined || now >= kept.staleUntil || now >= kept.idleUntil) {
            model.delete(key)
            return undefined
          }
          kept.idleUntil = now + timeToIdle
          return kept.n
        }
        for (const command of commands) {
          switch (command.op) {
            case "advance": {
              now += command.millis
              yield* TestClock.setTime(now)
              break
            }
            case "set": {
              const n = counter++
              yield* tier.set(`k${command.key}`, entry(n, now, now + command.ttl))
              model.set(`k${command.key}`, { n, staleUntil: now + command.ttl, idleUntil: now + timeToIdle })
              break
            }
            case "get": {
              assert.strictEqual(valueOf(yield* tier.get(`k${command.key}`, Value)), expect(`k${command.key}`))
              break
            }
            case "getMany": {
              const [found] = yield* tier.getMany([`k${command.key}`], Value)
              assert.strictEqual(valueOf(found), expect(`k${command.key}`))
              break
            }
            case "syncGet": {
              assert.strictEqual(
                valueOf(tier.sync!.get(`k${command.key}`, Value, undefined, now)),
                expect(`k${command.key}`)
              )
              break
            }
          }
        }
      }),
    { fastCheck: { numRuns: 200 } }
  )

  it.effect("through a Cache: a key read every 5 s stays, one left alone longer than timeToIdle is recomputed", () =>
    Effect.gen(function*() {
      const computes = { hot: 0, cold: 0 }
      const compute = (key: "hot" | "cold") => Effect.sync(() => ({ n: ++computes[key] }))
      const read = (key: "hot" | "cold") => Cache.getOrCompute(key, Value, compute(key), { ttl: "1 minute" })
      yield* read("hot")
      yield* read("cold")
      for (let t = 5; t <= 55; t += 5) {
        yield* TestClock.adjust("5 seconds")
        assert.deepStrictEqual(yield* read("hot"), { n: 1 }, `hot at ${t} s`)
        if (t === 15) assert.deepStrictEqual(yield* read("cold"), { n: 2 }, "cold, not read for 15 s")
      }
      assert.deepStrictEqual(computes, { hot: 1, cold: 2 })
      yield* TestClock.adjust("5 seconds")
      assert.deepStrictEqual(yield* read("hot"), { n: 2 }, "read all along, but its ttl is over at 60 s")
    }).pipe(
      Effect.provide(
        Cache.layer({ namespace: "t" }).pipe(Layer.provide(MemoryTier.layer({ timeToIdle: "10 seconds" })))
      )
    ))

  describe("the option", () => {
    const invalid: ReadonlyArray<unknown> = [0, -1, Number.NaN, "soon", "-5 seconds", {}]
    it.effect.each(invalid)("dies naming timeToIdle: %j", (timeToIdle) =>
      Effect.gen(function*() {
        const exit = yield* Effect.exit(MemoryTier.make({ timeToIdle: timeToIdle as any }))
        assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause))
        const message = Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""
        assert.include(message, "MemoryTier")
        assert.include(message, `"timeToIdle"`)
      }))

    it("an infinite timeToIdle is none: no idle deadlines are kept", () => {
      assert.strictEqual(resolve({ timeToIdle: Infinity }).timeToIdle, undefined)
      assert.strictEqual(resolve({}).timeToIdle, undefined)
      assert.strictEqual(resolve({ timeToIdle: "2 minutes" }).timeToIdle, 120_000)
    })

    it.effect("layerConfig reads it as a Duration", () =>
      Effect.gen(function*() {
        const tier = yield* CacheTier.CacheTier
        yield* tier.set("k", entry(1, 0))
        yield* TestClock.adjust("3 seconds")
        assert.strictEqual(valueOf(yield* tier.get("k", Value)), undefined)
      }).pipe(
        Effect.provide(
          MemoryTier.layerConfig({ timeToIdle: Config.duration("CACHE_L1_IDLE") }).pipe(
            Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["CACHE_L1_IDLE", "3 seconds"]]))))
          )
        )
      ))
  })
})
