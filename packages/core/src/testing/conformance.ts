/**
 * The conformance suite for tier authors: the `CacheTier` contract as
 * `@effect/vitest` tests. Call `run` at the top level of a test file, once per
 * configuration of your tier.
 *
 * @example
 * ```ts
 * import { LocalTier, SharedTier } from "@layercake/core/testing"
 * import * as Conformance from "@layercake/core/testing/conformance"
 *
 * Conformance.run("SharedTier", () => SharedTier.layer())
 * Conformance.run("LocalTier (maxTtl 1 s)", () => LocalTier.make({ maxTtl: 1_000 }).layer, { kind: "local" })
 * ```
 *
 * Each test builds a new tier from `makeTier` and runs under a `TestClock`
 * that starts at 0, so entry times are small numbers of milliseconds.
 *
 * What the suite asserts about time depends on the tier. A tier never decides
 * freshness: it returns what it holds, with the times it was given (capped to
 * `maxTtl`), and the `Cache` decides. What it must guarantee is the hard end:
 *
 * - a local tier, and by default any tier, returns nothing for an entry once
 *   the Effect `Clock` reaches its `staleUntil`;
 * - a shared tier whose store expires entries by real time (Redis `PX`) may
 *   return an entry until that physical expiry (`expiry: "store"`). The suite
 *   then checks that such an entry comes back with its times as written, so
 *   that the `Cache` sees it is over, and that the store does drop it in real
 *   time (one short real wait).
 *
 * This module is longer than the ~400 lines the style guide suggests on purpose:
 * it is one list of contract checks, read top to bottom by tier authors.
 *
 * @since 0.1.0
 */
import { assert, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FastCheck from "effect/FastCheck"
import * as Layer from "effect/Layer"
import * as Runtime from "effect/Runtime"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import * as TestServices from "effect/TestServices"
import * as CacheTier from "../CacheTier.js"

/**
 * What the suite may assume of the tier. Every option defaults to the strict
 * answer; each one turns off the checks a tier cannot pass by design.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The `kind` the tier must report. Default: not checked (any of the two). */
  readonly kind?: "local" | "shared" | undefined
  /**
   * How entries past their `staleUntil` go away. `"clock"` (default): the tier
   * stops returning them once the Effect `Clock` reaches `staleUntil`.
   * `"store"`: the store drops them by itself in real time (Redis `PX`); the
   * suite then checks the times of a stale entry instead, plus one real
   * expiry. Only for shared tiers: a local tier set to `"store"` fails.
   */
  readonly expiry?: "clock" | "store" | undefined
  /**
   * The tier keeps cached failures (negative entries). Default `true`. With
   * `false` a read with an error schema may miss; a negative entry must still
   * never reach a reader without one.
   */
  readonly negative?: boolean | undefined
  /** Runs of the `sync` parity property (only for tiers with `sync`). Default 100. */
  readonly syncRuns?: number | undefined
}

/**
 * What `run` builds a tier from: a layer providing it, or a scoped effect.
 *
 * @since 0.1.0
 * @category models
 */
export type MakeTier =
  | Layer.Layer<CacheTier.CacheTier, unknown>
  | Effect.Effect<CacheTier.CacheTier, unknown, Scope.Scope>

type Times = { readonly createdAt?: number; readonly freshUntil?: number; readonly staleUntil?: number }

const entry = <A>(
  value: A,
  schema: Schema.Schema<A, any>,
  times: Times = {},
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

const str = (value: string, times?: Times, tags?: ReadonlyArray<string>) => entry(value, Schema.String, times, tags)

/** A read as plain data: the value, `undefined` for a miss, or `"DecodeFailure"`. */
const valueOf = (result: CacheTier.ReadResult<any>): unknown =>
  result === undefined ? undefined : result instanceof CacheTier.DecodeFailure ? "DecodeFailure" : result.value

const found = <A>(result: CacheTier.ReadResult<A>, what: string): CacheTier.Entry<A> => {
  assert.isDefined(result, `${what}: a miss`)
  assert.notInstanceOf(result, CacheTier.DecodeFailure, `${what}: a DecodeFailure`)
  return result as CacheTier.Entry<A>
}

const timesOf = (e: CacheTier.Entry<any>) => [e.createdAt, e.freshUntil, e.staleUntil]

/** A string kept as a URL: decoding a string that is not one throws (user Schema code that throws). */
const ThrowingUrl = Schema.transform(Schema.String, Schema.Unknown, {
  strict: true,
  decode: (s) => new URL(s),
  encode: String
})

const User = Schema.Struct({ id: Schema.Number, name: Schema.String, roles: Schema.Array(Schema.String) })
const UserId = Schema.Struct({ id: Schema.Number })
const NotFound = Schema.Struct({ _tag: Schema.Literal("NotFound"), id: Schema.Number })
const Gone = Schema.Struct({ _tag: Schema.Literal("Gone") })

const build = (makeTier: () => MakeTier): Effect.Effect<CacheTier.CacheTier, unknown, Scope.Scope> =>
  Effect.suspend(() => {
    const made = makeTier()
    return Layer.isLayer(made)
      ? Effect.map(Layer.build(made as Layer.Layer<CacheTier.CacheTier, unknown>), Context.get(CacheTier.CacheTier))
      : made as Effect.Effect<CacheTier.CacheTier, unknown, Scope.Scope>
  })

/**
 * Registers the contract's tests for the tier `makeTier` builds. It is called
 * once per test (twice in the `sync` property) and must give a new, empty tier
 * each time: give a tier over an external store a unique key prefix per call.
 *
 * @since 0.1.0
 * @category tests
 */
export const run = (name: string, makeTier: () => MakeTier, options: Options = {}): void => {
  const expiry = options.expiry ?? "clock"
  const negative = options.negative ?? true
  const test = (title: string, body: (tier: CacheTier.CacheTier) => Effect.Effect<void, unknown, Scope.Scope>) =>
    it.scoped(title, () => Effect.flatMap(build(makeTier), body))

  describe(`CacheTier conformance: ${name}`, () => {
    test("name, kind and maxTtl are well-formed", (tier) =>
      Effect.sync(() => {
        assert.isTrue(typeof tier.name === "string" && tier.name.length > 0, "a non-empty name")
        assert.include(["local", "shared"], tier.kind)
        if (options.kind !== undefined) assert.strictEqual(tier.kind, options.kind)
        if (expiry === "store") assert.strictEqual(tier.kind, "shared", "only a shared tier may expire by the store")
        if (tier.maxTtl !== undefined) assert.isTrue(tier.maxTtl > 0 && Number.isFinite(tier.maxTtl), "maxTtl > 0")
      }))

    test("a missing key is a miss; getMany answers in the keys' order", (tier) =>
      Effect.gen(function*() {
        assert.strictEqual(yield* tier.get("ns:missing", Schema.String), undefined)
        assert.deepStrictEqual(yield* tier.getMany([], Schema.String), [])
        yield* tier.setMany([["ns:b", str("B")], ["ns:a", str("A")], ["ns:c", str("C")]])
        const results = yield* tier.getMany(["ns:c", "ns:a", "ns:missing", "ns:b", "ns:a"], Schema.String)
        assert.deepStrictEqual(results.map(valueOf), ["C", "A", undefined, "B", "A"])
      }))

    test("an entry reads back with its value, times, tags and the reader's schema", (tier) =>
      Effect.gen(function*() {
        const user = { id: 1, name: "Ada", roles: ["admin", "ops"] }
        const written = entry(user, User, { createdAt: 5, freshUntil: 30_000, staleUntil: 90_000 }, ["ns:t", "ns:u"])
        yield* tier.set("ns:u", written)
        for (const read of [yield* tier.get("ns:u", User), (yield* tier.getMany(["ns:u"], User))[0]]) {
          const e = found(read, "ns:u")
          assert.deepStrictEqual(e.value, user)
          assert.strictEqual(e.schema, User)
          assert.deepStrictEqual(timesOf(e), [5, cap(tier, 0, 30_000), cap(tier, 0, 90_000)])
          assert.deepStrictEqual([...e.tags].sort(), ["ns:t", "ns:u"])
          assert.isFalse(e.negative)
        }
        yield* tier.set("ns:u", entry({ ...user, name: "Grace" }, User))
        assert.strictEqual(found(yield* tier.get("ns:u", User), "overwritten").value.name, "Grace")
      }))

    test("delete removes exactly the given keys", (tier) =>
      Effect.gen(function*() {
        for (const key of ["ns:a", "ns:b", "ns:c"]) yield* tier.set(key, str(key))
        yield* tier.delete(["ns:a", "ns:c", "ns:never-written"])
        const results = yield* tier.getMany(["ns:a", "ns:b", "ns:c"], Schema.String)
        assert.deepStrictEqual(results.map(valueOf), [undefined, "ns:b", undefined])
      }))

    test("invalidateTags hides entries of the tags created at or before `at`, and nothing else", (tier) =>
      Effect.gen(function*() {
        yield* tier.set("ns:old", str("old", { createdAt: 10 }, ["ns:red"]))
        yield* tier.set("ns:at", str("at", { createdAt: 20 }, ["ns:blue", "ns:red"]))
        yield* tier.set("ns:green", str("green", { createdAt: 10 }, ["ns:green"]))
        yield* tier.set("ns:other", str("other", { createdAt: 10 }, ["ns:blue"]))
        yield* tier.set("ns:plain", str("plain", { createdAt: 10 }))
        yield* tier.set("other:red", str("other ns", { createdAt: 10 }, ["other:red"]))
        yield* tier.invalidateTags(["ns:red", "ns:green"], 20)
        yield* tier.set("ns:new", str("new", { createdAt: 21 }, ["ns:red"]))
        const keys = ["ns:old", "ns:at", "ns:green", "ns:other", "ns:plain", "other:red", "ns:new"]
        assert.deepStrictEqual(
          (yield* tier.getMany(keys, Schema.String)).map(valueOf),
          [undefined, undefined, undefined, "other", "plain", "other ns", "new"]
        )
        assert.strictEqual(valueOf(yield* tier.get("ns:new", Schema.String)), "new")
        // an older invalidation arriving late makes nothing readable again (a local tier may drop "ns:new" too)
        yield* tier.invalidateTags(["ns:red"], 5)
        assert.deepStrictEqual((yield* tier.getMany(["ns:old", "ns:at"], Schema.String)).map(valueOf), [
          undefined,
          undefined
        ])
      }))

    test("clear removes the keys of its prefix only, read literally (glob characters)", (tier) =>
      Effect.gen(function*() {
        const inside = ["ns:", "ns:a", "ns:*", "ns:[x]", "ns:?", "ns:\\", "ns:a:b", "ns:[^a]*"]
        const outside = ["ns", "ns2:a", "nsa", "n:a", "other:ns:a", "n*:a", "[ns]:a", "Ns:a"]
        for (const key of [...inside, ...outside]) yield* tier.set(key, str(key))
        yield* tier.clear("ns:")
        assert.deepStrictEqual((yield* tier.getMany(inside, Schema.String)).map(valueOf), inside.map(() => undefined))
        assert.deepStrictEqual((yield* tier.getMany(outside, Schema.String)).map(valueOf), outside)
        const globbed = ["g*[?]\\:a", "g*[?]\\:b:c"]
        const lookalikes = ["gx[?]\\:a", "g*?\\:a", "g*[?]:a", "g*[a]\\:a", "g*[?]\\", "g*[?]\\;a"]
        for (const key of [...globbed, ...lookalikes]) yield* tier.set(key, str(key))
        yield* tier.clear("g*[?]\\:")
        assert.deepStrictEqual((yield* tier.getMany(globbed, Schema.String)).map(valueOf), [undefined, undefined])
        assert.deepStrictEqual((yield* tier.getMany(lookalikes, Schema.String)).map(valueOf), lookalikes)
        // a longer prefix leaves its siblings alone
        yield* tier.clear("ns2:a:")
        assert.strictEqual(valueOf(yield* tier.get("ns2:a", Schema.String)), "ns2:a")
      }))

    if (expiry === "clock") {
      test("an entry is returned, stale included, until the Clock reaches its staleUntil", (tier) =>
        Effect.gen(function*() {
          yield* tier.setMany([["ns:k", str("v", { freshUntil: 500, staleUntil: 1_000 })]])
          const end = cap(tier, 0, 1_000)
          yield* TestClock.adjust(end - 1)
          const stale = found(yield* tier.get("ns:k", Schema.String), "stale, before staleUntil")
          assert.deepStrictEqual([stale.value, stale.freshUntil], ["v", cap(tier, 0, 500)], "the Cache decides")
          yield* tier.set(
            "ns:later",
            str("later", { createdAt: end - 1, freshUntil: end + 500, staleUntil: end + 900 })
          )
          yield* TestClock.adjust(1)
          assert.strictEqual(yield* tier.get("ns:k", Schema.String), undefined, "now = staleUntil")
          assert.deepStrictEqual((yield* tier.getMany(["ns:k", "ns:later"], Schema.String)).map(valueOf), [
            undefined,
            cap(tier, end - 1, end + 900) > end ? "later" : undefined
          ])
        }))
    } else {
      test("a stale entry comes back with its times as written; the store drops it in real time", (tier) =>
        Effect.gen(function*() {
          yield* tier.set("ns:k", str("v", { freshUntil: 500, staleUntil: 60_000 }))
          yield* TestClock.adjust(1_000)
          const read = found(yield* tier.get("ns:k", Schema.String), "stale")
          assert.deepStrictEqual([read.value, ...timesOf(read)], ["v", 0, cap(tier, 0, 500), cap(tier, 0, 60_000)])
          // the store expires by real time, whatever the TestClock says: 60 ms of life, then a real 250 ms wait
          yield* tier.set("ns:short", str("short", { createdAt: 1_000, freshUntil: 1_020, staleUntil: 1_060 }))
          assert.strictEqual(valueOf(yield* tier.get("ns:short", Schema.String)), "short")
          yield* TestServices.provideLive(Effect.sleep("250 millis"))
          assert.strictEqual(yield* tier.get("ns:short", Schema.String), undefined, "dropped by the store")
        }))
    }

    test("an entry written with its life already over is not kept, and replaces the older one", (tier) =>
      Effect.gen(function*() {
        yield* TestClock.adjust(1_000)
        yield* tier.setMany([["ns:a", str("old a")], ["ns:b", str("old b")]])
        yield* tier.set("ns:a", str("over", { freshUntil: 500, staleUntil: 1_000 }))
        yield* tier.setMany([["ns:b", str("over", { freshUntil: 500, staleUntil: 900 })]])
        yield* tier.set("ns:c", str("over", { freshUntil: 500, staleUntil: 1_000 }))
        const results = yield* tier.getMany(["ns:a", "ns:b", "ns:c"], Schema.String)
        assert.deepStrictEqual(results.map(valueOf), [undefined, undefined, undefined])
      }))

    test("copies are capped to now + maxTtl on write, never extended", (tier) =>
      Effect.gen(function*() {
        yield* TestClock.adjust(100)
        const long = str("v", { createdAt: 100, freshUntil: 50_000, staleUntil: 9e9 })
        yield* tier.set("ns:long", long)
        yield* tier.setMany([["ns:long-many", long]])
        yield* tier.set("ns:short", str("v", { createdAt: 100, freshUntil: 300, staleUntil: 600 }))
        const [one, many, short] = yield* tier.getMany(["ns:long", "ns:long-many", "ns:short"], Schema.String)
        assert.deepStrictEqual(timesOf(found(short, "short")), [100, cap(tier, 100, 300), cap(tier, 100, 600)])
        const capped = [100, cap(tier, 100, 50_000), cap(tier, 100, 9e9)]
        assert.deepStrictEqual(timesOf(found(one, "set")), capped)
        assert.deepStrictEqual(timesOf(found(many, "setMany")), capped)
      }))

    test("a read with a schema that does not match, or that throws, is a DecodeFailure", (tier) =>
      Effect.gen(function*() {
        yield* tier.set("ns:k", str("not a url"))
        assert.instanceOf(yield* tier.get("ns:k", Schema.Number), CacheTier.DecodeFailure)
        assert.instanceOf(yield* tier.get("ns:k", ThrowingUrl), CacheTier.DecodeFailure)
        const many = yield* tier.getMany(["ns:k", "ns:missing", "ns:k"], Schema.Number)
        assert.deepStrictEqual(many.map(valueOf), ["DecodeFailure", undefined, "DecodeFailure"])
        assert.strictEqual(valueOf(yield* tier.get("ns:k", Schema.String)), "not a url", "the entry is still there")
      }))

    test("a read with another, compatible schema gives the value of that schema", (tier) =>
      Effect.gen(function*() {
        yield* tier.set("ns:u", entry({ id: 1, name: "Ada", roles: [] }, User))
        const read = found(yield* tier.get("ns:u", UserId), "read with UserId")
        assert.deepStrictEqual(read.value, { id: 1 })
        assert.strictEqual(read.schema, UserId)
      }))

    test("a cached failure never reaches a reader without an error schema", (tier) =>
      Effect.gen(function*() {
        yield* tier.set("ns:neg", entry({ _tag: "NotFound" as const, id: 7 }, NotFound, {}, [], true))
        yield* tier.set("ns:pos", str("value"))
        assert.strictEqual(yield* tier.get("ns:neg", Schema.Unknown), undefined)
        assert.deepStrictEqual((yield* tier.getMany(["ns:neg", "ns:pos"], Schema.Unknown)).map(valueOf), [
          undefined,
          "value"
        ])
        const positive = found(yield* tier.get("ns:pos", Schema.String, NotFound), "a value read with an error schema")
        assert.deepStrictEqual([positive.value, positive.negative], ["value", false])
      }))

    test(
      negative
        ? "a cached failure is read with an error schema, decoded with it"
        : "a cached failure read with an error schema is a miss or the failure (the tier may decline to keep it)",
      (tier) =>
        Effect.gen(function*() {
          const failure = { _tag: "NotFound" as const, id: 7 }
          yield* tier.set("ns:neg", entry(failure, NotFound, { createdAt: 3 }, ["ns:t"], true))
          const reads = [
            yield* tier.get("ns:neg", User, NotFound),
            (yield* tier.getMany(["ns:neg"], User, NotFound))[0]
          ]
          for (const read of reads) {
            if (!negative && read === undefined) continue
            const e = found(read, "ns:neg with NotFound")
            assert.deepStrictEqual([e.value, e.negative, ...timesOf(e)], [
              failure,
              true,
              3,
              cap(tier, 0, 60_000),
              cap(tier, 0, 120_000)
            ])
            assert.strictEqual<unknown>(e.schema, NotFound, "read with the error schema")
            assert.deepStrictEqual([...e.tags], ["ns:t"])
          }
          const other = yield* tier.get("ns:neg", User, Gone)
          if (negative || other !== undefined) assert.instanceOf(other, CacheTier.DecodeFailure)
          yield* tier.invalidateTags(["ns:t"], 3)
          assert.strictEqual(yield* tier.get("ns:neg", User, NotFound), undefined, "invalidated by its tag")
        })
    )

    test("every operation succeeds on a healthy tier, for any well-formed key", (tier) =>
      Effect.gen(function*() {
        const keys = ["ns:ключ", "ns:🙂", "ns:a b\tc\nd", "ns:\u0000", `ns:${"x".repeat(2_000)}`, "ns:\"'`{}%"]
        const exits = [
          yield* Effect.exit(tier.setMany(keys.map((key) => [key, str(key, {}, ["ns:🏷"])] as const))),
          yield* Effect.exit(tier.setMany([])),
          yield* Effect.exit(tier.delete([])),
          yield* Effect.exit(tier.invalidateTags([], 0)),
          yield* Effect.exit(tier.clear("nothing-here:"))
        ]
        assert.isTrue(exits.every(Exit.isSuccess), "no operation fails")
        assert.deepStrictEqual((yield* tier.getMany(keys, Schema.String)).map(valueOf), keys)
        for (const key of keys) assert.strictEqual(valueOf(yield* tier.get(key, Schema.String)), key)
        yield* tier.invalidateTags(["ns:🏷"], 0)
        yield* tier.delete(keys)
        assert.deepStrictEqual((yield* tier.getMany(keys, Schema.String)).map(valueOf), keys.map(() => undefined))
      }))

    it.scoped("sync access, when the tier has it, answers exactly as get and set", () =>
      Effect.gen(function*() {
        const probe = yield* build(makeTier)
        if (probe.sync === undefined) {
          assert.isUndefined(probe.sync, "no sync access: nothing to compare")
          return
        }
        const runtime = yield* Effect.runtime<never>()
        yield* Effect.promise(() =>
          FastCheck.assert(
            FastCheck.asyncProperty(
              Ops,
              (ops) => Runtime.runPromise(runtime)(Effect.scoped(syncParity(makeTier, ops)))
            ),
            { numRuns: options.syncRuns ?? 100 }
          )
        )
      }))
  })
}

/** A time written at `now` as the tier keeps it: capped to `now + maxTtl`. */
const cap = (tier: CacheTier.CacheTier, now: number, time: number): number =>
  tier.maxTtl === undefined ? time : Math.min(time, now + tier.maxTtl)

const Key = FastCheck.constantFrom("ns:a", "ns:b", "other:a")
/** Times on a 100 ms grid, so that reads often fall exactly on a `staleUntil`. */
const millis = (min: number, max: number) => FastCheck.integer({ min: min / 100, max: max / 100 }).map((n) => n * 100)
const Tags = FastCheck.subarray(["ns:red", "ns:blue"])

const Op = FastCheck.oneof(
  FastCheck.record({
    op: FastCheck.constant("set" as const),
    key: Key,
    value: FastCheck.string({ maxLength: 6 }),
    start: millis(-200, 0),
    fresh: millis(0, 200),
    stale: millis(0, 200),
    tags: Tags,
    negative: FastCheck.boolean()
  }),
  FastCheck.record({ op: FastCheck.constant("advance" as const), millis: millis(0, 300) }),
  FastCheck.record({ op: FastCheck.constant("delete" as const), key: Key }),
  FastCheck.record({
    op: FastCheck.constant("invalidateTags" as const),
    tags: Tags,
    offset: millis(-100, 100)
  }),
  FastCheck.record({ op: FastCheck.constant("clear" as const), prefix: FastCheck.constantFrom("ns:", "other:") })
)

const Ops = FastCheck.array(Op, { maxLength: 25 })

type Op = typeof Op extends FastCheck.Arbitrary<infer A> ? A : never

/** Readers: a value schema, and the error schema for cached failures (or none). */
const readers: ReadonlyArray<readonly [Schema.Schema<any, any>, Schema.Schema<any, any> | undefined]> = [
  [Schema.String, undefined],
  [Schema.String, NotFound],
  [Schema.Number, NotFound],
  [Schema.String, Gone]
]

const view = (result: CacheTier.ReadResult<any>): unknown =>
  result === undefined || result instanceof CacheTier.DecodeFailure
    ? valueOf(result)
    : { value: result.value, times: timesOf(result), tags: [...result.tags], negative: result.negative }

/**
 * Two new tiers: `viaEffect` is written with `set`, `viaSync` with `sync.set`;
 * everything else goes to both. After each step, every read of every key
 * through `get` and `sync.get` of both tiers must agree.
 */
const syncParity = (makeTier: () => MakeTier, ops: ReadonlyArray<Op>) =>
  Effect.gen(function*() {
    const viaEffect = yield* build(makeTier)
    const viaSync = yield* build(makeTier)
    const both = (f: (tier: CacheTier.CacheTier) => Effect.Effect<void, CacheTier.TierError>) =>
      Effect.zipRight(f(viaEffect), f(viaSync))
    for (const [step, op] of ops.entries()) {
      const now = yield* Clock.currentTimeMillis
      switch (op.op) {
        case "set": {
          const createdAt = now + op.start
          const times = { createdAt, freshUntil: createdAt + op.fresh, staleUntil: createdAt + op.fresh + op.stale }
          const written = op.negative
            ? entry({ _tag: "NotFound" as const, id: op.value.length }, NotFound, times, op.tags, true)
            : entry(op.value, Schema.String, times, op.tags)
          const effectExit = yield* Effect.exit(viaEffect.set(op.key, written))
          const syncExit = yield* Effect.exit(viaSync.sync!.set(op.key, written, now) ?? Effect.void)
          assert.strictEqual(Exit.isSuccess(syncExit), Exit.isSuccess(effectExit), `step ${step}: set outcome`)
          break
        }
        case "advance":
          yield* TestClock.adjust(op.millis)
          break
        case "delete":
          yield* both((tier) => tier.delete([op.key]))
          break
        case "invalidateTags":
          yield* both((tier) => tier.invalidateTags(op.tags, now + op.offset))
          break
        case "clear":
          yield* both((tier) => tier.clear(op.prefix))
      }
      const at = yield* Clock.currentTimeMillis
      for (const key of ["ns:a", "ns:b", "other:a"]) {
        for (const [schema, errorSchema] of readers) {
          // each tier is read both ways, in both orders: a read may drop what it finds expired
          const bySync = view(viaEffect.sync!.get(key, schema, errorSchema, at))
          const expected = view(yield* viaEffect.get(key, schema, errorSchema))
          const written = view(yield* viaSync.get(key, schema, errorSchema))
          const where = `step ${step} (${op.op}), ${key}, ${String(schema)} / ${String(errorSchema)}`
          assert.deepStrictEqual(bySync, expected, `${where}: sync.get and get differ`)
          assert.deepStrictEqual(written, expected, `${where}: sync.set and set differ`)
          assert.deepStrictEqual(view(viaSync.sync!.get(key, schema, errorSchema, at)), expected, `${where}: both`)
        }
      }
    }
  })
