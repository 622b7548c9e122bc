/**
 * The `Cache` service: Schema-typed `getOrCompute` over a stack of tiers, with
 * stampede protection, a freshness model (TTL, refresh-ahead,
 * stale-while-revalidate, stale-if-error, soft and hard timeouts, negative
 * caching), tags, namespaces and cross-instance invalidation.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Metric from "effect/Metric"
import type * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import type * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type * as CacheTier from "./CacheTier.js"
import * as internal from "./internal/cache.js"
import * as internalMetrics from "./internal/metrics.js"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("@layercake/core/Cache")

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * Per-call options; every one defaults to the layer's value of the same name.
 *
 * @since 0.1.0
 * @category models
 */
export interface EntryOptions {
  /** Fresh lifetime. Default: the layer's `defaultTtl` (5 minutes). */
  readonly ttl?: Duration.DurationInput | undefined
  /** Time-to-refresh (< ttl, ignored otherwise): a read after it returns the value and refreshes in the background. */
  readonly refreshAfter?: Duration.DurationInput | undefined
  /** 0..1: each key refreshes early by a key-derived fraction of `refreshAfter`, so keys written together do not refresh together. */
  readonly refreshJitter?: number | undefined
  /** Window after `ttl` in which a read returns the stale value at once and refreshes in the background. */
  readonly staleWhileRevalidate?: Duration.DurationInput | undefined
  /** Window after `ttl` in which a failing (or hard-timed-out) compute gives the stale value instead of the error. */
  readonly staleIfError?: Duration.DurationInput | undefined
  /** While serving stale because the source fails, retry the compute at most once per this interval. Default 5 seconds. */
  readonly staleIfErrorRetry?: Duration.DurationInput | undefined
  /** With a stale value inside `staleIfError`, return it when the compute runs longer than this; the compute goes on and stores its result. */
  readonly softTimeout?: Duration.DurationInput | undefined
  /** From the start of the shared compute, each caller waits at most this long, then fails with `ComputeTimeoutError`. */
  readonly hardTimeout?: Duration.DurationInput | undefined
  /** Tags for `invalidateTags`. */
  readonly tags?: ReadonlyArray<string> | undefined
  /** Negative caching: cache a typed failure of `compute` this long, in local tiers. Default: failures are never cached. */
  readonly errorTtl?: Duration.DurationInput | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options extends Omit<EntryOptions, "ttl"> {
  /** Letters, digits, `_ . -`. Prefixes every key; scopes `clear` and bus messages. */
  readonly namespace: string
  /** Default 5 minutes. */
  readonly defaultTtl?: Duration.DurationInput | undefined
  /** 0..1: the ttl is multiplied by a random factor in `[1 - jitter, 1]`. Default 0. */
  readonly jitter?: number | undefined
}

/**
 * Counters since the layer was built.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stats {
  /** Fresh values served. */
  readonly hits: number
  /** Reads that found nothing usable. */
  readonly misses: number
  /** Stale values served (stale-while-revalidate, stale-if-error, soft timeout). */
  readonly staleHits: number
  /** Cached failures served (`errorTtl`). */
  readonly negativeHits: number
  /** Computes started for callers (misses). */
  readonly computes: number
  /** Callers that joined a compute already running. */
  readonly coalesced: number
  readonly computeFailures: number
  /** Background refreshes started. */
  readonly refreshes: number
  readonly refreshSuccesses: number
  readonly refreshFailures: number
  readonly softTimeouts: number
  readonly hardTimeouts: number
  /** Stale values served because the compute failed or timed out. */
  readonly staleIfErrorServed: number
  readonly decodeFailures: number
  readonly tierErrors: number
  /** Defects caught in background work (never crash the cache). */
  readonly backgroundDefects: number
  /** Fibers of computes and refreshes running now. */
  readonly inFlight: number
  readonly perTier: ReadonlyArray<
    { readonly name: string; readonly hits: number; readonly misses: number; readonly errors: number }
  >
}

/**
 * The Effect `Metric` counters behind `Stats`, named `layercake_<counter>_total`
 * and tagged with `namespace`; `tier` holds the per-tier counters
 * (`layercake_tier_{hits,misses,errors}_total`, tagged `namespace` and `tier`).
 * They are fed from the plain counters every second (wall clock), on `stats` and when the
 * layer closes. Read one with
 * `Metric.value(Cache.metrics.hits.pipe(Metric.tagged("namespace", "app")))`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const metrics: { readonly [K in keyof typeof internalMetrics.metrics]: Metric.Metric.Counter<number> } & {
  readonly tier: typeof internalMetrics.tierMetrics
} = { ...internalMetrics.metrics, tier: internalMetrics.tierMetrics }

/**
 * A caller waited `hardTimeout` for a compute.
 *
 * @since 0.1.0
 * @category errors
 */
export class ComputeTimeoutError extends Data.TaggedError("ComputeTimeoutError")<{
  readonly key: string
  readonly timeoutMillis: number
}> {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `compute of "${this.key}" did not finish within ${this.timeoutMillis} ms`
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Cache {
  readonly [TypeId]: TypeId
  readonly namespace: string
  /** A unique id of this instance (the sender id on the bus). */
  readonly instanceId: string
  readonly getOrCompute: <A, I, E, R>(
    key: string,
    schema: Schema.Schema<A, I>,
    compute: Effect.Effect<A, E, R>,
    options?: EntryOptions
  ) => Effect.Effect<A, E | ComputeTimeoutError, R>
  readonly get: <A, I>(key: string, schema: Schema.Schema<A, I>) => Effect.Effect<Option.Option<A>>
  readonly set: <A, I>(
    key: string,
    schema: Schema.Schema<A, I>,
    value: A,
    options?: EntryOptions
  ) => Effect.Effect<void, ParseResult.ParseError>
  readonly invalidate: (key: string | ReadonlyArray<string>) => Effect.Effect<void>
  readonly invalidateTags: (tags: ReadonlyArray<string>) => Effect.Effect<void>
  /** This namespace only, every tier, every instance on the bus. */
  readonly clear: Effect.Effect<void>
  readonly stats: Effect.Effect<Stats>
}

/**
 * @since 0.1.0
 * @category tags
 */
export const Cache: Context.Tag<Cache, Cache> = Context.GenericTag<Cache>("@layercake/core/Cache")

/**
 * Builds a cache over the `CacheTier` in context (usually a `CacheTier.stack`).
 * Uses an `InvalidationBus` if one is provided. Background work runs in fibers
 * of the layer's scope and stops when it closes.
 *
 * An invalid `namespace` or option is a defect at build time, with a message
 * naming the option.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options: Options) => Effect.Effect<Cache, never, CacheTier.CacheTier | Scope.Scope> = internal.make

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: (options: Options) => Layer.Layer<Cache, never, CacheTier.CacheTier> = internal.layer

/**
 * The cached value of `key`, or `compute`'s result (stored in every tier). One
 * compute per key however many callers.
 *
 * @since 0.1.0
 * @category accessors
 */
export const getOrCompute = <A, I, E, R>(
  key: string,
  schema: Schema.Schema<A, I>,
  compute: Effect.Effect<A, E, R>,
  options?: EntryOptions
): Effect.Effect<A, E | ComputeTimeoutError, R | Cache> =>
  Effect.flatMap(Cache, (cache) => cache.getOrCompute(key, schema, compute, options))

/**
 * `Some` while the entry is fresh or stale within `staleWhileRevalidate`; starts
 * no refresh.
 *
 * @since 0.1.0
 * @category accessors
 */
export const get = <A, I>(key: string, schema: Schema.Schema<A, I>): Effect.Effect<Option.Option<A>, never, Cache> =>
  Effect.flatMap(Cache, (cache) => cache.get(key, schema))

/**
 * Writes a value to every tier. Fails only when the value does not encode.
 *
 * @since 0.1.0
 * @category accessors
 */
export const set = <A, I>(
  key: string,
  schema: Schema.Schema<A, I>,
  value: A,
  options?: EntryOptions
): Effect.Effect<void, ParseResult.ParseError, Cache> =>
  Effect.flatMap(Cache, (cache) => cache.set(key, schema, value, options))

/**
 * @since 0.1.0
 * @category accessors
 */
export const invalidate = (key: string | ReadonlyArray<string>): Effect.Effect<void, never, Cache> =>
  Effect.flatMap(Cache, (cache) => cache.invalidate(key))

/**
 * @since 0.1.0
 * @category accessors
 */
export const invalidateTags = (tags: ReadonlyArray<string>): Effect.Effect<void, never, Cache> =>
  Effect.flatMap(Cache, (cache) => cache.invalidateTags(tags))

/**
 * @since 0.1.0
 * @category accessors
 */
export const clear: Effect.Effect<void, never, Cache> = Effect.flatMap(Cache, (cache) => cache.clear)

/**
 * @since 0.1.0
 * @category accessors
 */
export const stats: Effect.Effect<Stats, never, Cache> = Effect.flatMap(Cache, (cache) => cache.stats)
