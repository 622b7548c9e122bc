/**
 * A shared `CacheTier` in Redis (standalone, Sentinel or Cluster), over the
 * `RedisConnection` in context.
 *
 * - Every entry is a versioned binary envelope (format 2): times, tags, its
 *   own key, a flag for a cached failure, and the value encoded with the
 *   entry's Schema, then JSON or MessagePack. Bytes that do not decode with the
 *   reader's schema (corrupt, foreign, another envelope version such as the
 *   format 1 of earlier releases, a schema that changed shape, a value found
 *   under another key) are a `DecodeFailure`: a counted miss, never an error.
 * - Physical expiry (`PX`) is the entry's hard end (`staleUntil`); freshness is
 *   decided by the `Cache` from the envelope, with the Effect `Clock`.
 * - Tags: `invalidateTags` records the invalidation time of each tag in Redis
 *   (`<keyPrefix>~tag:<namespace>:<tag>`, kept `tagTtl`); an entry is invalid when it was
 *   created at or before the time of one of its tags. On a single server a
 *   Lua script reads entries and their tags' times in one round trip. In
 *   Cluster tag keys live in their own slots, so a read is an MGET per slot
 *   and, only when the entries found carry tags, a second round trip for the
 *   tag times (co-locating tags with entries would put a namespace on one node).
 *   Both times come from the writers' clocks: keep instances in sync (NTP).
 * - Entries that carry tags live at most `tagTtl` in Redis, so no entry can
 *   outlive the record of a tag invalidation that concerns it.
 * - `clear` SCANs (MATCH on the prefix) and UNLINKs in batches, on every master
 *   in Cluster; never KEYS or FLUSHDB.
 * - Every call is bounded by `operationTimeout` and goes through a circuit
 *   breaker; while it is open calls fail at once with `reason: "CircuitOpen"`
 *   and the `Cache` skips the tier. Both are measured on the Effect `Clock`
 *   (under a `TestClock`, adjust it to see a timeout).
 * - Cached failures (`errorTtl`) are stored like values: the error encoded with
 *   the entry's error schema, flagged in the envelope. A read returns one only
 *   when it passes an `errorSchema` (decoded with it; a mismatch is a
 *   `DecodeFailure`); to any other reader it is a plain miss.
 * - Values the json codec would not give back (`NaN`, `Infinity`, a `Date` or
 *   `Map` on the encoded side, `undefined` in an array, bigint) are refused by
 *   `set` with an `Encode` tier error that says what and points at
 *   `codec: "msgpack"`; `Cache.set` then fails with a `ParseError`. The key's
 *   older entry is deleted. Schema code that throws is a `DecodeFailure` on
 *   read and an `Encode` error on write, never a defect.
 * - Keys and tags must be well-formed Unicode (Redis stores UTF-8, where every
 *   lone surrogate becomes U+FFFD, so two keys would share one Redis key). The
 *   `Cache` rejects them before they reach a tier; called directly, `set`
 *   refuses them (`Encode`), `get` / `getMany` give a `DecodeFailure` without a
 *   round trip, and `delete` / `invalidateTags` skip them (nothing is stored
 *   under them).
 * - Writes: `set` is one SET with PX, `setMany` one pipeline (in Cluster, one
 *   SET per key, all sent at once).
 *
 * @since 0.1.0
 */
import type { CacheTier } from "@layercake/core"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as internal from "./internal/tier.js"
import type { RedisConnection } from "./RedisConnection.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * Prepended to every key (a `:` is added when it does not end with one).
   * Default `"layercake"`. Well-formed Unicode without `{` or `}`: in Cluster
   * a hash tag in the prefix would put every key in one slot.
   */
  readonly keyPrefix?: string | undefined
  /** The tier's name in stats and logs. Default `"redis"`. */
  readonly name?: string | undefined
  /** Bound of every Redis call. Default 250 ms. */
  readonly operationTimeout?: Duration.DurationInput | undefined
  /** Default `{ failureThreshold: 5, openFor: "5 seconds" }`; `false` turns it off. */
  readonly circuitBreaker?: CircuitBreakerOptions | false | undefined
  /**
   * How the Schema-encoded value is serialized. `"json"` (default) needs a
   * schema whose encoded side is JSON (e.g. `Schema.Date`, not
   * `Schema.DateFromSelf`); `"msgpack"` also carries binary data, `Date`,
   * `Set`, typed arrays and bigint (up to 64 bits) as they are. Describe maps
   * with `Schema.Map` / `Schema.ReadonlyMap` (encoded as a list of entries) in
   * both: a MessagePack map reads back as a plain object.
   */
  readonly codec?: "json" | "msgpack" | undefined
  /** The longest an entry lives in Redis. Default: its own lifetime. */
  readonly maxTtl?: Duration.DurationInput | undefined
  /**
   * How long a tag invalidation is remembered; entries that carry tags are
   * kept at most this long. Default 1 day.
   */
  readonly tagTtl?: Duration.DurationInput | undefined
  /**
   * How long an invalidation of a key (a delete, a `set`, a clear) fences off
   * writes of computes that started before it: their writes land only if no
   * invalidation of the key came after their start, and only within this
   * window (a compute that runs longer is not stored in Redis). Default 5 minutes.
   */
  readonly fenceWindow?: Duration.DurationInput | undefined
  /**
   * The largest value written, in bytes of its encoded envelope. A bigger one
   * is refused on `set` (a `TierError` with reason `"Encode"`, counted and
   * logged, and the key's older value deleted; `Cache.set` fails with a
   * `ParseError` saying so), so that one huge value cannot block the event
   * loop or hold the connection for every other key. Default 8 MiB;
   * `Infinity` for no bound.
   */
  readonly maxValueBytes?: number | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. Default 5. */
  readonly failureThreshold?: number | undefined
  /** How long the circuit stays open before one probe call is let through. Default 5 seconds. */
  readonly openFor?: Duration.DurationInput | undefined
}

/**
 * The tier service, over the connection in context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: Options) => Effect.Effect<CacheTier.CacheTier, never, RedisConnection> = internal.make

/**
 * @example
 * ```ts
 * import { Cache } from "@layercake/core"
 * import { RedisConnection, RedisTier } from "@layercake/redis"
 * import { Layer } from "effect"
 *
 * const CacheLive = Cache.layer({ namespace: "app" }).pipe(
 *   Layer.provide(RedisTier.layer({ keyPrefix: "myservice", operationTimeout: "100 millis" })),
 *   Layer.provide(RedisConnection.layer({ url: "redis://127.0.0.1:6379" }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<CacheTier.CacheTier, never, RedisConnection> =>
  Layer.effect(internal.CacheTierTag, internal.make(options))

/**
 * The tier with its options read from `Config`.
 *
 * @example
 * ```ts
 * import { RedisTier } from "@layercake/redis"
 * import * as Config from "effect/Config"
 *
 * const l2 = RedisTier.layerConfig({
 *   keyPrefix: Config.string("CACHE_KEY_PREFIX"),
 *   operationTimeout: Config.duration("CACHE_REDIS_TIMEOUT").pipe(Config.withDefault("250 millis"))
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<Options>
): Layer.Layer<CacheTier.CacheTier, ConfigError.ConfigError, RedisConnection> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), layer))
