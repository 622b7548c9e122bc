/**
 * The conformance suite for tier authors: runs the `CacheTier` contract over
 * your tier as `@effect/vitest` tests. Call it at the top level of a test file.
 *
 * @example
 * ```ts
 * import { SharedTier } from "@layercake/core/testing"
 * import * as Conformance from "@layercake/core/testing/conformance"
 *
 * Conformance.run("SharedTier", () => SharedTier.layer())
 * ```
 *
 * Every test builds a fresh tier from `makeLayer` and runs under a
 * `TestClock` that starts at 0: entry times in the tests are small numbers of
 * milliseconds.
 *
 * @since 0.1.0
 */
import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import * as CacheTier from "../CacheTier.js"

/**
 * What the suite may assume of the tier.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * How entries past their `staleUntil` go away. `"clock"` (default): the tier
   * stops returning them once the Effect `Clock` reaches `staleUntil` (memory,
   * the test kit). `"store"`: the store drops them on its own, by real time
   * (Redis `PX`); the suite then only checks that the times come back as
   * written, since the `Cache` decides freshness from them.
   */
  readonly expiry?: "clock" | "store" | undefined
  /** The tier keeps cached failures (negative entries). Default `true`. */
  readonly negative?: boolean | undefined
}

type TierLayer = Layer.Layer<CacheTier.CacheTier, unknown, never>

const entry = <A>(
  value: A,
  schema: Schema.Schema<A, any>,
  times: { readonly createdAt?: number; readonly freshUntil?: number; readonly staleUntil?: number } = {},
  tags: ReadonlyArray<string> = [],
  negative = false
): CacheTier.Entry<A> => ({
  value,
  schema,
  createdAt: times.createdAt ?? 0,
  freshUntil: times.freshUntil ?? 60_000,
  staleUntil: times.staleUntil ?? 120_000,
  tags,
  negative
})

const valueOf = <A>(result: CacheTier.ReadResult<A>): unknown =>
  result === undefined ? undefined : result instanceof CacheTier.DecodeFailure ? result : result.value

/** A time written at 0 as the tier keeps it: capped to `maxTtl`. */
const capped = (tier: CacheTier.CacheTier, time: number): number =>
  tier.maxTtl === undefined ? time : Math.min(time, tier.maxTtl)

/** A string kept as a URL; decoding a string that is not one throws. */
const ThrowingUrl = Schema.transform(Schema.String, Schema.Unknown, {
  strict: true,
  decode: (s) => new URL(s),
  encode: String
})

const User = Schema.Struct({ id: Schema.Number, name: Schema.String, roles: Schema.Array(Schema.String) })
const Failure = Schema.Struct({ _tag: Schema.Literal("NotFound"), id: Schema.Number })

/**
 * Registers the contract's tests for the tier `makeLayer` builds (a new,
 * empty one per call: give Redis-like tiers a unique key prefix each time).
 *
 * @since 0.1.0
 * @category tests
 */
export const run = (name: string, makeLayer: () => TierLayer, options: Options = {}): void => {
  const expiry = options.expiry ?? "clock"
  const negative = options.negative ?? true
  const test = (title: string, body: (tier: CacheTier.CacheTier) => Effect.Effect<void, unknown, Scope.Scope>) =>
    it.scoped(title, () =>
      Effect.flatMap(
        Effect.map(Layer.build(makeLayer()), Context.get(CacheTier.CacheTier)),
        body
      ))

  describe(`CacheTier conformance: ${name}`, () => {
    test("a missing key is a miss; getMany answers in the keys' order", (tier) =>
      Effect.gen(function*() {
        assert.strictEqual(yield* tier.get("ns:missing", Schema.String), undefined)
        yield* tier.setMany([["ns:b", entry("B", Schema.String)], ["ns:a", entry("A", Schema.String)]])
        const results = yield* tier.getMany(["ns:a", "ns:missing", "ns:b"], Schema.String)
        assert.deepStrictEqual(results.map(valueOf), ["A", undefined, "B"])
      }))

    test("a written entry reads back with its value, times and tags", (tier) =>
      Effect.gen(function*() {
        const user = { id: 1, name: "Ada", roles: ["admin", "ops"] }
        yield* tier.set("ns:u", entry(user, User, { createdAt: 5, freshUntil: 30_000, staleUntil: 90_000 }, ["ns:t"]))
        const read = yield* tier.get("ns:u", User)
        assert.isDefined(read)
        assert.notInstanceOf(read, CacheTier.DecodeFailure)
        const found = read as CacheTier.Entry<typeof User.Type>
        assert.deepStrictEqual(found.value, user)
        assert.deepStrictEqual(
          [found.createdAt, found.freshUntil, found.staleUntil, [...found.tags], found.negative],
          [5, capped(tier, 30_000), capped(tier, 90_000), ["ns:t"], false]
        )
        yield* tier.set("ns:u", entry({ ...user, name: "Grace" }, User))
        assert.strictEqual(((yield* tier.get("ns:u", User)) as CacheTier.Entry<typeof User.Type>).value.name, "Grace")
      }))

    test("delete removes exactly the given keys", (tier) =>
      Effect.gen(function*() {
        for (const key of ["ns:a", "ns:b", "ns:c"]) yield* tier.set(key, entry(key, Schema.String))
        yield* tier.delete(["ns:a", "ns:c", "ns:never-written"])
        const results = yield* tier.getMany(["ns:a", "ns:b", "ns:c"], Schema.String)
        assert.deepStrictEqual(results.map(valueOf), [undefined, "ns:b", undefined])
        yield* tier.delete([])
      }))

    test("invalidateTags hides entries of the tags created at or before `at`, and nothing else", (tier) =>
      Effect.gen(function*() {
        yield* tier.set("ns:old", entry("old", Schema.String, { createdAt: 10 }, ["ns:red"]))
        yield* tier.set("ns:both", entry("both", Schema.String, { createdAt: 20 }, ["ns:blue", "ns:red"]))
        yield* tier.set("ns:other", entry("other", Schema.String, { createdAt: 10 }, ["ns:blue"]))
        yield* tier.set("ns:plain", entry("plain", Schema.String, { createdAt: 10 }))
        yield* tier.invalidateTags(["ns:red"], 20)
        yield* tier.set("ns:new", entry("new", Schema.String, { createdAt: 21 }, ["ns:red"]))
        const results = yield* tier.getMany(["ns:old", "ns:both", "ns:other", "ns:plain", "ns:new"], Schema.String)
        assert.deepStrictEqual(results.map(valueOf), [undefined, undefined, "other", "plain", "new"])
        yield* tier.invalidateTags([], 100)
      }))

    test("clear removes the keys of its prefix only, glob characters included", (tier) =>
      Effect.gen(function*() {
        const inside = ["ns:a", "ns:*", "ns:[x]", "ns:?", "ns:\\", "ns:a:b"]
        const outside = ["ns2:a", "n:a", "nsa", "other:ns:a", "n*:a", "[ns]:a"]
        for (const key of [...inside, ...outside]) yield* tier.set(key, entry(key, Schema.String))
        yield* tier.clear("ns:")
        assert.deepStrictEqual((yield* tier.getMany(inside, Schema.String)).map(valueOf), inside.map(() => undefined))
        assert.deepStrictEqual((yield* tier.getMany(outside, Schema.String)).map(valueOf), outside)
        // a prefix with glob characters matches itself literally
        const globbed = ["g*[?]\\:a", "g*[?]\\:b"]
        const lookalikes = ["gx[?]\\:a", "g*?\\:a", "g*[?]:a"]
        for (const key of [...globbed, ...lookalikes]) yield* tier.set(key, entry(key, Schema.String))
        yield* tier.clear("g*[?]\\:")
        assert.deepStrictEqual((yield* tier.getMany(globbed, Schema.String)).map(valueOf), [undefined, undefined])
        assert.deepStrictEqual((yield* tier.getMany(lookalikes, Schema.String)).map(valueOf), lookalikes)
      }))

    if (expiry === "clock") {
      test("an entry is returned until the Clock reaches its staleUntil, never after", (tier) =>
        Effect.gen(function*() {
          yield* tier.set("ns:k", entry("v", Schema.String, { freshUntil: 500, staleUntil: 1_000 }))
          yield* TestClock.adjust(999)
          const stale = yield* tier.get("ns:k", Schema.String)
          assert.strictEqual(valueOf(stale), "v", "a stale entry is still returned: the Cache decides")
          yield* TestClock.adjust(1)
          assert.strictEqual(yield* tier.get("ns:k", Schema.String), undefined)
          yield* tier.set("ns:gone", entry("v", Schema.String, { freshUntil: 500, staleUntil: 1_000 }))
          assert.strictEqual(yield* tier.get("ns:gone", Schema.String), undefined, "written past its end: not kept")
        }))
    } else {
      test("a stale entry comes back with its times as written (the store expires it by itself)", (tier) =>
        Effect.gen(function*() {
          yield* tier.set("ns:k", entry("v", Schema.String, { freshUntil: 500, staleUntil: 60_000 }))
          yield* TestClock.adjust(1_000)
          const read = (yield* tier.get("ns:k", Schema.String)) as CacheTier.Entry<string>
          assert.deepStrictEqual([read.value, read.freshUntil, read.staleUntil], ["v", 500, capped(tier, 60_000)])
        }))
    }

    test("copies are capped to maxTtl from now, never extended", (tier) =>
      Effect.gen(function*() {
        yield* TestClock.adjust(100)
        yield* tier.set("ns:long", entry("v", Schema.String, { createdAt: 100, freshUntil: 50_000, staleUntil: 9e9 }))
        yield* tier.set("ns:short", entry("v", Schema.String, { createdAt: 100, freshUntil: 300, staleUntil: 600 }))
        const long = (yield* tier.get("ns:long", Schema.String)) as CacheTier.Entry<string>
        const short = (yield* tier.get("ns:short", Schema.String)) as CacheTier.Entry<string>
        assert.deepStrictEqual([short.freshUntil, short.staleUntil], [300, 600])
        if (tier.maxTtl === undefined) {
          assert.deepStrictEqual([long.freshUntil, long.staleUntil], [50_000, 9e9])
        } else {
          const cap = 100 + tier.maxTtl
          assert.deepStrictEqual([long.freshUntil, long.staleUntil], [Math.min(50_000, cap), Math.min(9e9, cap)])
        }
      }))

    test("a read with a schema that does not match, or that throws, is a DecodeFailure", (tier) =>
      Effect.gen(function*() {
        yield* tier.set("ns:k", entry("not a url", Schema.String))
        assert.instanceOf(yield* tier.get("ns:k", Schema.Number), CacheTier.DecodeFailure)
        assert.instanceOf(yield* tier.get("ns:k", ThrowingUrl), CacheTier.DecodeFailure)
        const many = yield* tier.getMany(["ns:k"], Schema.Number)
        assert.instanceOf(many[0], CacheTier.DecodeFailure)
        assert.strictEqual(valueOf(yield* tier.get("ns:k", Schema.String)), "not a url", "the entry is still there")
      }))

    if (negative) {
      test("a cached failure is read only with an error schema", (tier) =>
        Effect.gen(function*() {
          const failure = { _tag: "NotFound" as const, id: 7 }
          yield* tier.set("ns:neg", entry(failure, Failure, {}, [], true))
          assert.strictEqual(yield* tier.get("ns:neg", User), undefined)
          const read = (yield* tier.get("ns:neg", User, Failure)) as CacheTier.Entry
          assert.isTrue(read.negative)
          assert.deepStrictEqual(read.value, failure)
          const other = yield* tier.get("ns:neg", User, Schema.Struct({ _tag: Schema.Literal("Gone") }))
          assert.instanceOf(other, CacheTier.DecodeFailure)
        }))
    }

    test("sync access, when the tier has it, answers exactly as get and set", (tier) =>
      Effect.gen(function*() {
        const sync = tier.sync
        if (sync === undefined) {
          assert.isUndefined(tier.sync, "no sync access: nothing to compare")
          return
        }
        const keys = ["ns:a", "ns:b", "ns:c"]
        let now = 0
        for (let step = 0; step < 60; step++) {
          const key = keys[step % keys.length]
          const written = entry(`v${step}`, Schema.String, {
            createdAt: now,
            freshUntil: now + 100 + (step % 7) * 50,
            staleUntil: now + 200 + (step % 5) * 100
          })
          if (step % 4 === 0) yield* tier.set(key, written)
          else if (step % 4 === 1) yield* (sync.set(key, written, now) ?? Effect.void)
          else if (step % 4 === 2) {
            yield* TestClock.adjust(37)
            now += 37
          }
          for (const k of keys) {
            const viaEffect = yield* tier.get(k, Schema.String)
            const viaSync = sync.get(k, Schema.String, undefined, now)
            assert.deepStrictEqual(
              viaSync === undefined ? undefined : { ...viaSync },
              viaEffect === undefined ? undefined : { ...viaEffect },
              `step ${step}, ${k}`
            )
          }
        }
      }))
  })
}
