/**
 * The tier contract: a place that keeps cache entries (process memory, Redis, a
 * key-value store), and `stack`, which layers tiers hottest first.
 *
 * A tier only stores and returns entries: it never decides freshness. The
 * `Cache` reads the entry's absolute `freshUntil` / `staleUntil` and decides
 * what to do with it. To write a tier of your own, see docs/writing-a-tier.md
 * and run the conformance suite of `@layercake/core/testing/conformance` over it.
 *
 * The module is long because it is the whole surface a tier author reads: the
 * contract, `stack`, the middleware (`withTimeout`, `withRetry`,
 * `withCircuitBreaker`) and `withPolicy`, each documented here; their code is
 * in `internal/` (`stack.ts`, `tierMiddleware.ts`, `placement.ts`).
 *
 * @since 0.1.0
 */
import type * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Schedule from "effect/Schedule"
import type * as Schema from "effect/Schema"
import * as errors from "./internal/errors.js"
import * as glob from "./internal/glob.js"
import * as placement from "./internal/placement.js"
import * as internalStack from "./internal/stack.js"
import * as internal from "./internal/tier.js"
import * as middleware from "./internal/tierMiddleware.js"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: typeof internal.TypeId = internal.TypeId

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * @since 0.1.0
 * @category type ids
 */
export const StackTypeId: typeof internal.StackTypeId = internal.StackTypeId

/**
 * @since 0.1.0
 * @category type ids
 */
export type StackTypeId = typeof StackTypeId

/**
 * One cached value with its lifetime, as tiers keep it.
 *
 * Times are absolute epoch milliseconds read from the Effect `Clock`.
 * Local tiers keep `value` decoded together with the `schema` it was written or
 * decoded with; shared tiers encode `value` with `schema` on write and decode
 * with the reader's schema on read.
 *
 * @since 0.1.0
 * @category models
 */
export interface Entry<A = unknown> {
  readonly value: A
  /** The schema `value` was written or decoded with (for a cached failure: its error schema). */
  readonly schema: Schema.Schema<A, any>
  readonly createdAt: number
  /** Fresh while `now < freshUntil`. */
  readonly freshUntil: number
  /** Servable as stale while `freshUntil <= now < staleUntil`; gone after. */
  readonly staleUntil: number
  readonly tags: ReadonlyArray<string>
  /**
   * A cached failure (negative caching, `errorTtl`): `value` is the compute's
   * error and `schema` the caller's `errorSchema`, so that a shared tier can
   * encode it like any value. A tier returns it only to a reader that passes
   * an error schema; to any other reader it is a miss.
   */
  readonly negative: boolean
  /**
   * The fence points a compute took before it ran (tier name -> the point
   * that tier's `fence` gave). A tier with `fence` writes the entry only if
   * no invalidation of its key came after that point; an entry without one
   * (a `set`) is written whatever ran before.
   */
  readonly fences?: Readonly<Record<string, number>> | undefined
}

/**
 * What a read of one key gives: the entry, `undefined` for a miss, or a
 * `DecodeFailure` when stored bytes no longer match the reader's schema (a
 * miss that is counted apart).
 *
 * @since 0.1.0
 * @category models
 */
export type ReadResult<A> = Entry<A> | DecodeFailure | undefined

/**
 * Stored bytes or a kept value that does not match the reader's schema:
 * corrupt bytes, a foreign value, an unknown envelope version, a schema that
 * changed shape, or Schema code that threw. The `Cache` treats it as a miss
 * and counts it.
 *
 * @since 0.1.0
 * @category models
 */
export const DecodeFailure: new(
  args: ConstructorParameters<typeof errors.DecodeFailure>[0]
) => DecodeFailure = errors.DecodeFailure

/**
 * @since 0.1.0
 * @category models
 */
export interface DecodeFailure extends errors.DecodeFailure {}

/**
 * A tier operation failed (connection lost, timeout, circuit open, a value the
 * store cannot represent). The `Cache` logs and counts it and goes on with the
 * other tiers; it never fails a read.
 *
 * @since 0.1.0
 * @category errors
 */
export const TierError: new(
  args: ConstructorParameters<typeof errors.TierError>[0]
) => TierError = errors.TierError

/**
 * @since 0.1.0
 * @category errors
 */
export interface TierError extends errors.TierError {}

/**
 * The service every tier provides: storage operations only.
 *
 * @since 0.1.0
 * @category models
 */
export interface CacheTier {
  readonly [TypeId]: TypeId
  /** Names the tier in stats and logs. A stack makes clashing names distinct (`memory`, `memory#2`). */
  readonly name: string
  /** `local`: this process only (memory). `shared`: seen by every instance (Redis). */
  readonly kind: "local" | "shared"
  /** The longest a copy may live in this tier, in milliseconds (entries are capped to it on write). */
  readonly maxTtl: number | undefined
  /**
   * Reads one key, decoding with `schema` where the tier stores bytes. A
   * cached failure is returned only when `errorSchema` is given (decoded with
   * it); otherwise it reads as a miss.
   */
  readonly get: <A>(
    key: string,
    schema: Schema.Schema<A, any>,
    errorSchema?: Schema.Schema<any, any> | undefined
  ) => Effect.Effect<ReadResult<A>, TierError>
  /** Reads many keys in one round trip where the store allows; results in `keys` order. */
  readonly getMany: <A>(
    keys: ReadonlyArray<string>,
    schema: Schema.Schema<A, any>,
    errorSchema?: Schema.Schema<any, any> | undefined
  ) => Effect.Effect<ReadonlyArray<ReadResult<A>>, TierError>
  /**
   * Writes one entry, capped to `maxTtl`. A value the store cannot represent
   * faithfully fails with reason `"Encode"` (nothing is written and the key's
   * older entry is deleted). A tier may decline to keep cached failures.
   */
  readonly set: (key: string, entry: Entry<any>) => Effect.Effect<void, TierError>
  /** Writes many entries (pipelined where the store allows). */
  readonly setMany: (
    entries: ReadonlyArray<readonly [key: string, entry: Entry<any>]>
  ) => Effect.Effect<void, TierError>
  readonly delete: (keys: ReadonlyArray<string>) => Effect.Effect<void, TierError>
  /**
   * Makes every entry carrying one of `tags` and created at or before `at`
   * (epoch ms, chosen by the `Cache` so that its own writes and invalidations
   * are ordered even within one millisecond) unreadable. A local tier may
   * simply delete the tagged entries.
   */
  readonly invalidateTags: (tags: ReadonlyArray<string>, at: number) => Effect.Effect<void, TierError>
  /** Deletes every key that starts with `prefix` (a namespace), and nothing else. */
  readonly clear: (prefix: string) => Effect.Effect<void, TierError>
  /**
   * Deletes every key that starts with `prefix` (literal) and whose rest
   * matches the Redis glob `pattern` (`*`, `?`, `[…]`, `\` escapes; match
   * with `globMatcher`). Optional: without it, `Cache.invalidatePattern`
   * clears the whole namespace in this tier.
   */
  readonly deleteMatching?: ((prefix: string, pattern: string) => Effect.Effect<void, TierError>) | undefined
  /**
   * The synchronous fast path of a tier that never waits (in-process memory).
   * A stack reads and promotes through it without an Effect step, which is
   * what makes an L1 hit cheap. Optional; it must answer exactly as `get` /
   * `set` do at the given time.
   */
  readonly sync?: SyncAccess | undefined
  /**
   * Fenced writes, for shared tiers: a point in the tier's own order (its
   * server's clock, never an instance's), which the `Cache` takes before a
   * compute starts and puts in the entry it writes (`Entry.fences`). The tier
   * refuses the write when the key was invalidated (deleted, set, cleared) at
   * or after that point, so a compute that was running during an invalidation
   * can never leave its older result behind. Optional.
   */
  readonly fence?: ((key: string) => Effect.Effect<number, TierError>) | undefined
  /**
   * For shared tiers that check tags on every read: keeping tag invalidation
   * times in the process instead, once a bus tells this instance of every tag
   * invalidation. Optional.
   */
  readonly tagTimes?: TagTimes | undefined
  /**
   * How a stack promotes into this tier, when `withPolicy` set one (its
   * promotion policy). Optional: without it a hit found below is always
   * written here with `sync.set` or `set`.
   */
  readonly placement?: Placement | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Placement {
  /**
   * Writes a hit found in a lower tier into this one, with the times of the
   * copy it came from, or declines (`undefined`, as for a synchronous write).
   */
  readonly promote: (key: string, entry: Entry<any>, now: number) => Effect.Effect<void, TierError> | undefined
}

/**
 * How a shared tier keeps tag invalidation times in the process. The `Cache`
 * calls `keepLocally` when it has a bus, and `forget` for every tag another
 * instance invalidated (and with no tags after a gap in the bus), so that the
 * next read of an entry with such a tag fetches its time afresh.
 *
 * @since 0.1.0
 * @category models
 */
export interface TagTimes {
  readonly keepLocally: () => void
  /** Tags as the tier stores them (namespace included); every tag when `undefined`. */
  readonly forget: (tags: ReadonlyArray<string> | undefined) => void
}

/**
 * `get` and `set` of an in-process tier, run synchronously at `now` (epoch ms
 * read by the caller from the Effect `Clock`). They return what the tier holds
 * and never decide freshness.
 *
 * @since 0.1.0
 * @category models
 */
export interface SyncAccess {
  /** Exactly `get(key, schema, errorSchema)` at `now`, without failing. */
  readonly get: <A>(
    key: string,
    schema: Schema.Schema<A, any>,
    errorSchema: Schema.Schema<any, any> | undefined,
    now: number
  ) => ReadResult<A>
  /**
   * Exactly `set(key, entry)` at `now`. Returns `undefined`, or an effect to run
   * after it (the log of a warning, or the failure `set` would have given).
   */
  readonly set: (key: string, entry: Entry<any>, now: number) => Effect.Effect<void, TierError> | undefined
}

/**
 * The tier `stack` builds: a tier made of other tiers, with its members. The
 * `Cache` uses the members to promote, count per tier, and apply another
 * instance's invalidations to the local members only.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stack extends CacheTier {
  readonly [StackTypeId]: StackTypeId
  /** The tiers, hottest first, with the names the stack gave them. */
  readonly members: ReadonlyArray<CacheTier>
}

/**
 * @since 0.1.0
 * @category tags
 */
export const CacheTier: Context.Tag<CacheTier, CacheTier> = internal.tag

/**
 * Builds a tier service, filling in the type id.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (tier: Omit<CacheTier, TypeId>) => CacheTier = internal.make

/**
 * @since 0.1.0
 * @category guards
 */
export const isStack: (tier: CacheTier) => tier is Stack = internal.isStack

/**
 * The members of a stack, hottest first; `[tier]` for a single tier.
 *
 * @since 0.1.0
 * @category getters
 */
export const membersOf: (tier: CacheTier) => ReadonlyArray<CacheTier> = internal.membersOf

/**
 * Stacks tier layers, hottest first, into one tier.
 *
 * Reads go top-down; a hit in a lower tier is promoted into the tiers above it
 * with its remaining lifetime (never extended, capped by each tier's `maxTtl`).
 * Writes, deletes and invalidations go to every tier. A failing tier is skipped
 * (logged) instead of failing the read. Members with the same name are renamed
 * `name#2`, `name#3`, ... in stack order.
 *
 * @example
 * ```ts
 * import { CacheTier } from "@layercake/core"
 * import { MemoryTier } from "@layercake/memory"
 * import { SharedTier } from "@layercake/core/testing"
 *
 * const tiers = CacheTier.stack(MemoryTier.layer({ maxEntries: 10_000 }), SharedTier.layer())
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const stack: <
  const Layers extends readonly [Layer.Layer<CacheTier, any, any>, ...Array<Layer.Layer<CacheTier, any, any>>]
>(
  ...layers: Layers
) => Layer.Layer<CacheTier, Layer.Layer.Error<Layers[number]>, Layer.Layer.Context<Layers[number]>> =
  internalStack.stack

/**
 * Reads a kept entry as a value of `schema` (or, for a cached failure, of
 * `errorSchema`). With the schema it was kept with, the entry itself (no
 * decoding); with another schema, the value is encoded with its own schema and
 * decoded with the reader's, and a mismatch (or Schema code that throws) is a
 * `DecodeFailure`. A cached failure read without `errorSchema` is a miss. For
 * local tiers that keep decoded values.
 *
 * @since 0.1.0
 * @category utils
 */
export const readAs: <A>(
  key: string,
  entry: Entry<any>,
  schema: Schema.Schema<A, any>,
  errorSchema?: Schema.Schema<any, any> | undefined
) => ReadResult<A> = internal.readAs

/**
 * A Redis glob pattern (`*`, `?`, `[abc]`, `[^a]`, `[a-z]`, `\` escapes) as a
 * matcher of whole strings, for tiers implementing `deleteMatching`.
 *
 * @since 0.1.0
 * @category utils
 */
export const globMatcher: (pattern: string) => (text: string) => boolean = glob.matcher

/**
 * Caps an entry's lifetime to `now + maxTtl` (never extends it).
 *
 * @since 0.1.0
 * @category utils
 */
export const capLifetime: (entry: Entry<any>, now: number, maxTtl: number | undefined) => Entry<any> =
  internal.capLifetime

/**
 * What `withTimeout`, `withRetry` and `withCircuitBreaker` return: a function
 * of a tier, giving the wrapped tier, or of a tier layer, giving a layer of
 * the wrapped tier (so that it pipes where tiers are composed, inside
 * `stack`). A layer is wrapped each time it is built, so each build has its
 * own state (a breaker of its own). The wrapped tier keeps the name, kind
 * and `maxTtl` of the tier. A stack is refused (a defect): wrap its members.
 *
 * See docs/tier-middleware.md.
 *
 * @since 0.1.0
 * @category models
 */
export interface Middleware {
  <Self extends CacheTier | Layer.Layer<CacheTier, any, any>>(
    self: Self
  ): Self extends Layer.Layer<CacheTier, infer E, infer R> ? Layer.Layer<CacheTier, E, R> : CacheTier
}

/**
 * @since 0.1.0
 * @category models
 */
export interface TimeoutOptions {
  /** The longest one operation may take, by the Effect `Clock`; then it fails with reason `"Timeout"`. */
  readonly timeout: Duration.DurationInput
  /**
   * The operations bounded (`getMany` is a `"get"`, `setMany` a `"set"`,
   * `deleteMatching` a `"clear"`). Default: all of them.
   */
  readonly operations?: ReadonlyArray<TierError["operation"]> | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RetryOptions {
  /** Attempts after the first. Default 2. */
  readonly times?: number | undefined
  /** The first delay of the jittered exponential backoff (doubling, each ×0.8–1.2). Default 20 ms. */
  readonly delay?: Duration.DurationInput | undefined
  /** The delays, instead of the backoff (`times` still bounds the attempts); not with `delay`. */
  readonly schedule?: Schedule.Schedule<unknown, TierError> | undefined
  /**
   * The failures retried. Default `["Unavailable", "Timeout"]`. `"Unknown"`
   * may be added; `"Encode"` (the same value fails the same way) and
   * `"CircuitOpen"` (meant to fail fast) cannot.
   */
  readonly reasons?: ReadonlyArray<"Unavailable" | "Timeout" | "Unknown"> | undefined
  /** The operations retried, named as in `TimeoutOptions.operations`. Default: all of them (all are idempotent). */
  readonly operations?: ReadonlyArray<TierError["operation"]> | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface CircuitBreakerOptions {
  /** Consecutive failures (`"Unavailable"`, `"Timeout"`, `"CircuitOpen"` from further in) that open the circuit. Default 5. */
  readonly failureThreshold?: number | undefined
  /** How long the circuit stays open before one probe call is let through. Default 5 seconds. */
  readonly openFor?: Duration.DurationInput | undefined
}

/**
 * Bounds each operation of a tier by `timeout` on the Effect `Clock` (so
 * `TestClock` drives it): an operation still running then is interrupted and
 * fails with a `TierError` of reason `"Timeout"` naming the tier. `fence` and
 * `deleteMatching` are bounded like the rest; `sync` access is kept as it is
 * (it is synchronous, there is nothing to wait for).
 *
 * @example
 * ```ts
 * import { CacheTier } from "@layercake/core"
 * import { SharedTier } from "@layercake/core/testing"
 * import { MemoryTier } from "@layercake/memory"
 *
 * const tiers = CacheTier.stack(
 *   MemoryTier.layer(),
 *   SharedTier.layer().pipe(CacheTier.withTimeout({ timeout: "50 millis" }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category middleware
 */
export const withTimeout: (options: TimeoutOptions) => Middleware = middleware.withTimeout

/**
 * Retries operations of a tier that fail with reason `"Unavailable"` or
 * `"Timeout"` (see `RetryOptions.reasons`), `times` times, with jittered
 * exponential backoff. Reads that end in a `DecodeFailure` are answers, not
 * failures, and are not retried. A retried read adds its delays to the
 * latency of the cache read that waits for it: keep `times` and `delay`
 * small, and put `withTimeout` inside to bound each attempt. `sync` access
 * is kept (its reads cannot fail; its writes are not retried).
 *
 * @example
 * ```ts
 * import { CacheTier } from "@layercake/core"
 * import { SharedTier } from "@layercake/core/testing"
 *
 * const shared = SharedTier.layer().pipe(
 *   CacheTier.withTimeout({ timeout: "50 millis" }), // each attempt
 *   CacheTier.withRetry({ times: 2, delay: "10 millis" })
 * )
 * ```
 *
 * @since 0.1.0
 * @category middleware
 */
export const withRetry: (options?: RetryOptions) => Middleware = middleware.withRetry

/**
 * A circuit breaker around a tier: after `failureThreshold` consecutive
 * failures (`"Unavailable"`, `"Timeout"`) every operation fails at once with
 * reason `"CircuitOpen"` for `openFor`; then one call goes through as a probe
 * while the others still fail fast. The probe's success closes the circuit,
 * its failure opens it again; nothing else closes it (a call admitted before
 * the circuit opened that succeeds late does not). A reply error
 * (`"Unknown"`) shows the store answers; an `"Encode"` refusal says nothing.
 * Opening and closing are logged once each (warning, info). Times from the
 * Effect `Clock`. The wrapped tier has no `sync` access, which would bypass
 * the breaker.
 *
 * @example
 * ```ts
 * import { CacheTier } from "@layercake/core"
 * import { SharedTier } from "@layercake/core/testing"
 *
 * const shared = SharedTier.layer().pipe(
 *   CacheTier.withTimeout({ timeout: "50 millis" }),
 *   CacheTier.withCircuitBreaker({ failureThreshold: 5, openFor: "5 seconds" })
 * )
 * ```
 *
 * @since 0.1.0
 * @category middleware
 */
export const withCircuitBreaker: (options?: CircuitBreakerOptions) => Middleware = middleware.withCircuitBreaker

/**
 * A tier's own policy in a stack (see `withPolicy`).
 *
 * @since 0.1.0
 * @category models
 */
export interface TierPolicy {
  /**
   * Multiplies the fresh and stale lifetimes of what is written to this tier
   * (from the entry's creation), ≥ 1: a lower tier keeps an entry longer than
   * the tiers above and serves it after they dropped it (multi-tier-cache's
   * per-tier TTL scale, e.g. 2 for an L3). A copy promoted from this tier
   * keeps these times (it never outlives the copy it came from; a tier's own
   * `maxTtl` still caps it).
   */
  readonly ttlScale?: number | undefined
  /**
   * When a hit found in a lower tier is copied into this one: `"always"`
   * (default), `"never"`, `{ afterHits: n }` (on the n-th hit below since it
   * was last promoted, tower-http-cache's promotion threshold) or
   * `{ probability: p }` (multi-tier-cache's probabilistic promotion: one in
   * 1/p hits, so a key read once does not take a place in L1). To keep big
   * values out of an in-process tier, use its own bound (`MemoryTier`'s
   * `maxEntryBytes`).
   */
  readonly promotion?:
    | "always"
    | "never"
    | { readonly afterHits: number }
    | { readonly probability: number; readonly random?: (() => number) | undefined }
    | undefined
  /**
   * `"always"` (default): writes (`set`, computes) are stored here.
   * `"onRead"`: writes skip this tier, deleting its copy, and it fills only by
   * promotion when a read finds the key below (tower-http-cache's
   * write-through switch off, cachet's insert policy): set it on the tiers
   * above the lowest shared one to write that one only and promote on read.
   */
  readonly writes?: "always" | "onRead" | undefined
}

/**
 * Sets a tier's policy in a stack: its TTL scale, when hits found below are
 * promoted into it, and whether writes reach it (see `TierPolicy`). Applies
 * to a tier or a tier layer, like the other middleware; put it outermost.
 *
 * @example
 * ```ts
 * import { CacheTier } from "@layercake/core"
 * import { SharedTier } from "@layercake/core/testing"
 * import { MemoryTier } from "@layercake/memory"
 *
 * // L1 takes a key on its 3rd read in a row from L2, and is never written directly;
 * // L2 keeps what it is given twice as long
 * const tiers = CacheTier.stack(
 *   MemoryTier.layer().pipe(CacheTier.withPolicy({ promotion: { afterHits: 3 }, writes: "onRead" })),
 *   SharedTier.layer().pipe(CacheTier.withPolicy({ ttlScale: 2 }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const withPolicy: (policy: TierPolicy) => Middleware = placement.withPolicy
