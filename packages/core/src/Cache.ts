/**
 * The `Cache` service: Schema-typed `getOrCompute` over a stack of tiers, with
 * stampede protection, a freshness model (TTL, refresh-ahead,
 * stale-while-revalidate, stale-if-error, soft and hard timeouts, negative
 * caching), tags, namespaces and cross-instance invalidation.
 *
 * Long because it is the service's whole public surface (its options, stats,
 * accessors, `cached` and the TTL presets), mostly documentation; the code is
 * in `internal/` (`readPath`, `flights`, `batch`, `writes`, `invalidation`).
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import type * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Metric from "effect/Metric"
import type * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import type * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type * as CacheTier from "./CacheTier.js"
import * as internal from "./internal/cache.js"
import * as internalTag from "./internal/cacheTag.js"
import * as errors from "./internal/errors.js"
import * as internalMetrics from "./internal/metrics.js"
import type * as InvalidationBus from "./InvalidationBus.js"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: typeof internalTag.TypeId = internalTag.TypeId

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * The freshness options a call and the layer's defaults share; every one
 * defaults to the layer's value of the same name.
 *
 * @since 0.1.0
 * @category models
 */
export interface FreshnessOptions {
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
}

/**
 * Negative caching, typed: `errorTtl` caches a failure of the compute, and it
 * type-checks only together with `errorSchema`, the Schema of that failure.
 * A cached failure is served only to a caller whose `errorSchema` decodes it;
 * for any other caller it is a miss. With its schema a failure is stored like
 * a value, so shared tiers (Redis) keep it too and a fleet shares the
 * negative answer.
 *
 * `errorSchema` without `errorTtl` caches nothing, but lets this caller read
 * failures cached by others and join a compute of the key started with
 * another error type (see `getOrCompute`).
 *
 * @since 0.1.0
 * @category models
 */
export type NegativeCaching<E> =
  & {
    /** The Schema of the compute's failure (a `Schema.TaggedError` class, a `Schema.Literal`, ...). */
    readonly errorSchema?: Schema.Schema<E, any> | undefined
  }
  & (
    | { readonly errorTtl?: undefined }
    | {
      /** Cache a typed failure of the compute this long; needs `errorSchema`. */
      readonly errorTtl: Duration.DurationInput
      readonly errorSchema: Schema.Schema<E, any>
    }
  )

/**
 * Type-level check of `getOrCompute`: the `errorSchema` of its options must
 * describe a failure its compute can give (a part of its error type).
 *
 * @since 0.1.0
 * @category models
 */
export type ErrorSchemaFits<E, EC> = 0 extends (1 & EC) ? unknown
  : [EC] extends [E] ? unknown
  : { readonly errorSchema: "errorSchema must describe a failure of the compute (a part of its error type)" }

/**
 * Per-call options; every one defaults to the layer's value of the same name.
 * `ttl` and `tags` may be functions of the computed value (adaptive caching):
 * they are applied when a compute, a refresh or a `set` stores its value.
 * A `ttl` function that returns `0` stores nothing for that value.
 *
 * @since 0.1.0
 * @category models
 */
export type EntryOptions<A = any, E = any> =
  & FreshnessOptions
  & {
    /** Fresh lifetime, or a function of the value. Default: the layer's `defaultTtl` (5 minutes). */
    readonly ttl?: Duration.DurationInput | ((value: A) => Duration.DurationInput) | undefined
    /** Tags for `invalidateTags`, or a function of the value. */
    readonly tags?: ReadonlyArray<string> | ((value: A) => ReadonlyArray<string>) | undefined
  }
  & NegativeCaching<E>

/**
 * @since 0.1.0
 * @category models
 */
export interface Options extends FreshnessOptions {
  /** Letters, digits, `_ . -`. Prefixes every key; scopes `clear` and bus messages. */
  readonly namespace: string
  /** Default 5 minutes. */
  readonly defaultTtl?: Duration.DurationInput | undefined
  /** 0..1: the ttl is multiplied by a random factor in `[1 - jitter, 1]`. Default 0. */
  readonly jitter?: number | undefined
  /** Tags of every entry written without tags of its own. */
  readonly tags?: ReadonlyArray<string> | undefined
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
  /** Gaps a bus reported, each of which dropped this instance's local entries. */
  readonly gapsApplied: number
  /** Background retries of shared-tier invalidations (deletes, tag invalidations, clears) that failed. */
  readonly invalidationRetries: number
  /** Invalidations given up after the last retry (logged as errors; the keys stay suspect for their lifetime). */
  readonly invalidationsAbandoned: number
  /** Computes that took the fleet-wide lease of their key (`DistributedLock`). */
  readonly lockAcquired: number
  /** Callers that waited for another instance's compute instead of computing. */
  readonly lockWaits: number
  /** Waits that ran out (`waitTimeout`), after which the instance computed itself. */
  readonly lockTimeouts: number
  /** Fibers of computes and refreshes running now. */
  readonly inFlight: number
  /** `(hits + staleHits + negativeHits) / (those + misses)`: the reads served from the cache; 0 before any read. */
  readonly hitRatio: number
  readonly perTier: ReadonlyArray<
    {
      readonly name: string
      readonly hits: number
      readonly misses: number
      readonly errors: number
      /** `hits / (hits + misses)` of the reads that reached this tier; 0 before any. */
      readonly hitRatio: number
    }
  >
  /** How this instance takes part in a fleet. */
  readonly fleet: FleetState
}

/**
 * @since 0.1.0
 * @category models
 */
export interface FleetState {
  /** The bus's health, or `undefined` without a bus. */
  readonly bus: InvalidationBus.Health | undefined
  /** Whether a `DistributedLock` is attached. */
  readonly lock: boolean
  /** Keys and tag sets whose shared-tier invalidation has not landed yet (reads of them skip shared tiers). */
  readonly suspect: number
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
export const ComputeTimeoutError: new(
  args: ConstructorParameters<typeof errors.ComputeTimeoutError>[0]
) => ComputeTimeoutError = errors.ComputeTimeoutError

/**
 * @since 0.1.0
 * @category errors
 */
export interface ComputeTimeoutError extends errors.ComputeTimeoutError {}

/**
 * @since 0.1.0
 * @category models
 */
export interface Cache {
  readonly [TypeId]: TypeId
  readonly namespace: string
  /** A unique id of this instance (the sender id on the bus). */
  readonly instanceId: string
  /** See the `getOrCompute` accessor. */
  readonly getOrCompute: <A, I, E, R, EC = never>(
    key: string,
    schema: Schema.Schema<A, I>,
    compute: Effect.Effect<A, E, R>,
    options?: EntryOptions<NoInfer<A>, EC> & ErrorSchemaFits<E, EC>
  ) => Effect.Effect<A, E | ComputeTimeoutError, R>
  /** See the `getMany` accessor. */
  readonly getMany: <A, I>(
    keys: ReadonlyArray<string>,
    schema: Schema.Schema<A, I>
  ) => Effect.Effect<ReadonlyArray<Option.Option<A>>>
  /** See the `getOrComputeMany` accessor. */
  readonly getOrComputeMany: <A, I, E, R>(
    keys: ReadonlyArray<string>,
    schema: Schema.Schema<A, I>,
    computeMissing: (keys: ReadonlyArray<string>) => Effect.Effect<Computed<A>, E, R>,
    options?: EntryOptions<NoInfer<A>, any> | ((key: string) => EntryOptions<NoInfer<A>, any> | undefined)
  ) => Effect.Effect<ReadonlyArray<Option.Option<A>>, E | ComputeTimeoutError, R>
  /** See the `refresh` accessor. */
  readonly refresh: <A, I, E, R>(
    key: string,
    schema: Schema.Schema<A, I>,
    compute: Effect.Effect<A, E, R>,
    options?: EntryOptions<NoInfer<A>, any>
  ) => Effect.Effect<void, never, R>
  readonly get: <A, I>(key: string, schema: Schema.Schema<A, I>) => Effect.Effect<Option.Option<A>>
  readonly set: <A, I>(
    key: string,
    schema: Schema.Schema<A, I>,
    value: A,
    options?: SetOptions<NoInfer<A>>
  ) => Effect.Effect<void, ParseResult.ParseError>
  readonly invalidate: (key: string | ReadonlyArray<string>) => Effect.Effect<void>
  readonly invalidateTags: (tags: ReadonlyArray<string>) => Effect.Effect<void>
  /** Keys of this namespace matching a Redis glob (`product:category:42:*`), every tier, every instance on the bus. */
  readonly invalidatePattern: (pattern: string) => Effect.Effect<void>
  /** This namespace only, every tier, every instance on the bus. */
  readonly clear: Effect.Effect<void>
  readonly stats: Effect.Effect<Stats>
}

/**
 * @since 0.1.0
 * @category tags
 */
export const Cache: Context.Tag<Cache, Cache> = internalTag.tag

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
 * The cache with its options read from `Config`.
 *
 * @example
 * ```ts
 * import { Cache } from "@layercake/core"
 * import * as Config from "effect/Config"
 *
 * const CacheLive = Cache.layerConfig({
 *   namespace: Config.string("CACHE_NAMESPACE"),
 *   defaultTtl: Config.duration("CACHE_TTL").pipe(Config.withDefault("5 minutes"))
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<Options>
): Layer.Layer<Cache, ConfigError.ConfigError, CacheTier.CacheTier> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), internal.layer))

/**
 * The cached value of `key`, or `compute`'s result (stored in every tier). One
 * compute per key however many callers.
 *
 * Callers of one key that pass the same schema (the same object, or one of
 * the same shape) are taken to run the same compute: they share its value and
 * its failure. A caller that joins a compute started with a schema of another
 * shape gets the value converted to its own schema, and when the compute
 * fails, or the value does not convert, it runs its own compute: it never
 * receives a failure of another type. With `errorSchema` a caller also takes
 * a foreign failure that decodes with it.
 *
 * @since 0.1.0
 * @category accessors
 */
export const getOrCompute = <A, I, E, R, EC = never>(
  key: string,
  schema: Schema.Schema<A, I>,
  compute: Effect.Effect<A, E, R>,
  options?: EntryOptions<NoInfer<A>, EC> & ErrorSchemaFits<E, EC>
): Effect.Effect<A, E | ComputeTimeoutError, R | Cache> =>
  internal.accessGetOrCompute(key, schema, compute, options as EntryOptions | undefined)

/**
 * The values of `keys` (in their order) as `get` would give them, read with
 * one `getMany` per tier for the whole batch (one `MGET` per slot on Redis).
 *
 * @since 0.1.0
 * @category accessors
 */
export const getMany = <A, I>(
  keys: ReadonlyArray<string>,
  schema: Schema.Schema<A, I>
): Effect.Effect<ReadonlyArray<Option.Option<A>>, never, Cache> =>
  Effect.flatMap(Cache, (cache) => cache.getMany(keys, schema))

/**
 * What a batched compute gives: the values it found, by key (a `Map`, or
 * `[key, value]` pairs). A key it leaves out has no value.
 *
 * @since 0.1.0
 * @category models
 */
export type Computed<A> = ReadonlyMap<string, A> | Iterable<readonly [string, A]>

/**
 * `getOrCompute` for a batch: one read per tier for all `keys`, then one call
 * of `computeMissing` with only the keys that missed and are not being
 * computed already (those are joined, as `getOrCompute` joins them), each
 * value stored as `getOrCompute` stores it. Results are in the caller's
 * order (a key given twice is read and computed once).
 *
 * - A key `computeMissing` leaves out is `None` and nothing is stored for it
 *   (to cache "not found", compute an `Option` with an `Option` schema).
 * - `options` may be a function of the key (per-key freshness); stale
 *   serving (`staleWhileRevalidate`, `staleIfError`, `refreshAfter`) works
 *   per key, a key's refresh calling `computeMissing([key])`.
 * - A failure of `computeMissing` fails every key computed by it (keys with a
 *   stale value within `staleIfError` serve it instead), and so the call.
 * - Negative caching (`errorTtl`) is not applied to batches.
 *
 * @since 0.1.0
 * @category accessors
 */
export const getOrComputeMany = <A, I, E, R>(
  keys: ReadonlyArray<string>,
  schema: Schema.Schema<A, I>,
  computeMissing: (keys: ReadonlyArray<string>) => Effect.Effect<Computed<A>, E, R>,
  options?: EntryOptions<NoInfer<A>, any> | ((key: string) => EntryOptions<NoInfer<A>, any> | undefined)
): Effect.Effect<ReadonlyArray<Option.Option<A>>, E | ComputeTimeoutError, R | Cache> =>
  Effect.flatMap(Cache, (cache) => cache.getOrComputeMany(keys, schema, computeMissing, options))

/**
 * Recomputes `key` in the background, in a fiber of the cache layer's scope
 * (it outlives the caller), and stores the result as `getOrCompute` would;
 * returns at once. A compute of the key already running is joined instead.
 * A failure keeps whatever is cached and is logged; after one, the key's
 * refreshes rest for `staleIfErrorRetry`. For revalidating on your own terms,
 * e.g. an HTTP cache serving a stale response while it asks the origin.
 *
 * @since 0.1.0
 * @category accessors
 */
export const refresh = <A, I, E, R>(
  key: string,
  schema: Schema.Schema<A, I>,
  compute: Effect.Effect<A, E, R>,
  options?: EntryOptions<NoInfer<A>, any>
): Effect.Effect<void, never, R | Cache> =>
  Effect.flatMap(Cache, (cache) => cache.refresh(key, schema, compute, options))

/**
 * The TTL presets of multi-tier-cache's `CacheStrategy`, as `EntryOptions`:
 * spread one and add freshness options, e.g.
 * `{ ...Cache.Strategy.ShortTerm, staleWhileRevalidate: "1 minute" }`.
 *
 * @since 0.1.0
 * @category models
 */
export const Strategy: {
  /** 10 seconds: data that changes all the time (prices, presence). */
  readonly RealTime: EntryOptions
  /** 5 minutes (the layer's default `defaultTtl`). */
  readonly ShortTerm: EntryOptions
  /** 1 hour. */
  readonly MediumTerm: EntryOptions
  /** 3 hours. */
  readonly LongTerm: EntryOptions
  /** A ttl of your own, with freshness options. */
  readonly Custom: (ttl: Duration.DurationInput, options?: FreshnessOptions) => EntryOptions
} = {
  RealTime: { ttl: "10 seconds" },
  ShortTerm: { ttl: "5 minutes" },
  MediumTerm: { ttl: "1 hour" },
  LongTerm: { ttl: "3 hours" },
  Custom: (ttl, options) => ({ ...options, ttl })
}

/**
 * The options of `cached`: the key (a prefix, followed by the arguments as
 * JSON, or a function of the arguments), the value's schema and the entry's
 * options.
 *
 * @since 0.1.0
 * @category models
 */
export type CachedOptions<Args extends ReadonlyArray<any>, A, I> = EntryOptions<A, any> & {
  readonly key: string | ((...args: Args) => string)
  readonly schema: Schema.Schema<A, I>
}

/**
 * Turns a function returning an Effect into the same function served from
 * the cache: each call is a `getOrCompute` of the key its arguments give.
 *
 * @example
 * ```ts
 * import { Cache } from "@layercake/core"
 * import { Effect, Schema } from "effect"
 *
 * const User = Schema.Struct({ id: Schema.Number, name: Schema.String })
 * const loadUser = (id: number) => Effect.succeed({ id, name: `user ${id}` })
 *
 * // getUser(42) reads "user:[42]", or calls loadUser(42) and stores its value
 * const getUser = Cache.cached({ key: "user", schema: User, ttl: "1 minute" })(loadUser)
 * ```
 *
 * A string `key` is followed by the arguments as JSON (`user:[42]`): give a
 * function of the arguments when they are not plain data (it must give the
 * same key for arguments that give the same value).
 *
 * @since 0.1.0
 * @category constructors
 */
export const cached = <A, I, K extends ReadonlyArray<any> = ReadonlyArray<any>>(options: CachedOptions<K, A, I>) => {
  const { key, schema, ...entryOptions } = options
  const keyOf = typeof key === "function" ? key : (...args: K) => `${key}:${JSON.stringify(args)}`
  return <Args extends K, E, R>(fn: (...args: Args) => Effect.Effect<A, E, R>) =>
  (...args: Args): Effect.Effect<A, E | ComputeTimeoutError, R | Cache> =>
    internal.accessGetOrCompute(keyOf(...args), schema, Effect.suspend(() => fn(...args)), entryOptions as EntryOptions)
}

/**
 * `Some` while the entry is fresh or stale within `staleWhileRevalidate`; starts
 * no refresh.
 *
 * @since 0.1.0
 * @category accessors
 */
export const get = <A, I>(key: string, schema: Schema.Schema<A, I>): Effect.Effect<Option.Option<A>, never, Cache> =>
  internal.accessGet(key, schema)

/**
 * Writes a value to every tier. Fails only when the value does not encode,
 * with the schema or with a tier's codec (e.g. `NaN` under Redis' `json`
 * codec): then nothing is stored and the key's older entries are gone.
 *
 * @since 0.1.0
 * @category accessors
 */
export const set = <A, I>(
  key: string,
  schema: Schema.Schema<A, I>,
  value: A,
  options?: SetOptions<NoInfer<A>>
): Effect.Effect<void, ParseResult.ParseError, Cache> =>
  Effect.flatMap(Cache, (cache) => cache.set(key, schema, value, options))

/**
 * The options of `set`: the entry's, and what the other instances of the bus
 * do with their local copy of the key.
 *
 * @since 0.1.0
 * @category models
 */
export type SetOptions<A> = EntryOptions<A, any> & {
  /**
   * `"invalidate"` (default): they drop their copy; their next read takes the
   * new value from the shared tier. `"refresh"`: they drop it and read the new
   * value from the shared tier in the background at once, so their next read
   * is a local hit (for a key they have read with `get` / `getOrCompute`
   * recently; the value itself never travels on the bus).
   */
  readonly peers?: "invalidate" | "refresh" | undefined
}

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
 * Invalidates the keys of the namespace that match a Redis glob pattern
 * (`*`, `?`, `[…]`, `\\` escapes), e.g. `"product:category:42:*"`: in every
 * tier (Redis: `SCAN MATCH` + delete on every master), in computes running
 * now, and on every instance of the bus (one message).
 *
 * @since 0.1.0
 * @category accessors
 */
export const invalidatePattern = (pattern: string): Effect.Effect<void, never, Cache> =>
  Effect.flatMap(Cache, (cache) => cache.invalidatePattern(pattern))

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
