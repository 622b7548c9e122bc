/**
 * The tier contract: a place that keeps cache entries (process memory, Redis, a
 * key-value store), and `stack`, which layers tiers hottest first.
 *
 * A tier stores and returns entries; it never decides freshness policy. The
 * `Cache` service reads the entry's absolute `freshUntil` / `staleUntil` and
 * decides what to do with it.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Schema from "effect/Schema"
import * as entry from "./internal/entry.js"
import * as internal from "./internal/stack.js"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("@layercake/core/CacheTier")

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

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
  /** The schema `value` was written or decoded with. */
  readonly schema: Schema.Schema<A, any>
  readonly createdAt: number
  /** Fresh while `now < freshUntil`. */
  readonly freshUntil: number
  /** Servable as stale while `freshUntil <= now < staleUntil`; gone after. */
  readonly staleUntil: number
  readonly tags: ReadonlyArray<string>
  /**
   * A cached failure (negative caching): `value` is the error of the compute
   * and `schema` is the success schema (it cannot encode `value`). Only local
   * tiers keep these; a failure has no schema to cross the wire with. A tier
   * that needs a size estimate measures `JSON.stringify(value)`.
   */
  readonly negative: boolean
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
 * corrupt bytes, a foreign value, an unknown envelope version, or a schema that
 * changed shape. The `Cache` treats it as a miss and counts it.
 *
 * @since 0.1.0
 * @category models
 */
export class DecodeFailure extends Data.TaggedClass("DecodeFailure")<{
  readonly key: string
  readonly reason: string
}> {}

/**
 * A tier operation failed (connection lost, timeout, circuit open). The `Cache`
 * logs and counts it and goes on with the other tiers; it never fails a read.
 *
 * @since 0.1.0
 * @category errors
 */
export class TierError extends Data.TaggedError("TierError")<{
  readonly tier: string
  readonly operation: "get" | "set" | "delete" | "invalidateTags" | "clear"
  readonly reason: "Unavailable" | "Timeout" | "CircuitOpen" | "Encode" | "Unknown"
  readonly cause?: unknown
}> {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `${this.tier}.${this.operation} failed: ${this.reason}`
  }
}

/**
 * The service every tier provides.
 *
 * @since 0.1.0
 * @category models
 */
export interface CacheTier {
  readonly [TypeId]: TypeId
  /** Distinct per tier in a stack; names the tier in stats and logs. */
  readonly name: string
  /** `local`: this process only (memory). `shared`: seen by every instance (Redis). */
  readonly kind: "local" | "shared"
  /** The longest a copy may live in this tier, in milliseconds (entries are capped to it on write). */
  readonly maxTtl: number | undefined
  /** The tiers this one is made of, hottest first; `[this]` for a single tier. */
  readonly members: ReadonlyArray<CacheTier>
  /** Reads one key, decoding with `schema` where the tier stores bytes. */
  readonly get: <A>(key: string, schema: Schema.Schema<A, any>) => Effect.Effect<ReadResult<A>, TierError>
  /** Reads many keys in one round trip where the store allows; results in `keys` order. */
  readonly getMany: <A>(
    keys: ReadonlyArray<string>,
    schema: Schema.Schema<A, any>
  ) => Effect.Effect<ReadonlyArray<ReadResult<A>>, TierError>
  /** Writes one entry, capped to `maxTtl`. A shared tier ignores negative entries. */
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
   * Optional synchronous fast path of local tiers, used by the `Cache` for the
   * L1 hit: the kept value when the key holds a non-negative entry written with
   * exactly `schema` and `now < min(freshUntil, createdAt + refreshAfter)`;
   * `NotFound` otherwise. Allocates nothing; must not touch LRU order more than
   * a `get` would.
   */
  readonly peekFresh?: <A>(
    key: string,
    schema: Schema.Schema<A, any>,
    now: number,
    refreshAfter: number
  ) => A | NotFound
  /**
   * Optional synchronous `get` of local tiers that never wait, given the time
   * read from the `Clock` (epoch ms). A stack reads and promotes through it
   * without an Effect step per tier. Must answer as `get` would.
   */
  readonly unsafeGet?: <A>(key: string, schema: Schema.Schema<A, any>, now: number) => ReadResult<A>
  /**
   * Optional synchronous `set`, the companion of `unsafeGet`: keeps the entry
   * at `now` as `set` would. Returns `undefined`, or an effect to run after it
   * (e.g. the log of a warning).
   */
  readonly unsafeSet?: (key: string, entry: Entry<any>, now: number) => Effect.Effect<void> | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export type NotFound = typeof NotFound

/**
 * The "nothing usable" answer of `peekFresh` (`undefined` can be a cached value).
 *
 * @since 0.1.0
 * @category constants
 */
export const NotFound: unique symbol = Symbol.for("@layercake/core/CacheTier/NotFound")

/**
 * @since 0.1.0
 * @category tags
 */
export const CacheTier: Context.Tag<CacheTier, CacheTier> = Context.GenericTag<CacheTier>("@layercake/core/CacheTier")

/**
 * Builds a tier service, filling in the type id and `members`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (tier: Omit<CacheTier, TypeId | "members">): CacheTier => entry.makeTier(tier)

/**
 * Stacks tier layers, hottest first, into one tier.
 *
 * Reads go top-down; a hit in a lower tier is promoted into the tiers above it
 * with its remaining lifetime (never extended, capped by each tier's `maxTtl`).
 * Writes, deletes and invalidations go to every tier. A failing tier is skipped
 * (logged) instead of failing the read.
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
) => Layer.Layer<CacheTier, Layer.Layer.Error<Layers[number]>, Layer.Layer.Context<Layers[number]>> = internal.stack

/**
 * Reads `entry` as a value of `schema`. With the schema it was kept with, the
 * entry itself (no decoding); with another schema, the value is encoded with its
 * own schema and decoded with the reader's, and a mismatch is a `DecodeFailure`.
 * For local tiers that keep decoded values.
 *
 * @since 0.1.0
 * @category utils
 */
export const readAs: <A>(key: string, entry: Entry<any>, schema: Schema.Schema<A, any>) => Entry<A> | DecodeFailure =
  entry.readAs

/**
 * Caps an entry's lifetime to `now + maxTtl` (never extends it).
 *
 * @since 0.1.0
 * @category utils
 */
export const capLifetime: (entry: Entry<any>, now: number, maxTtl: number | undefined) => Entry<any> = entry.capLifetime
