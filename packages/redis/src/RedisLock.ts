/**
 * The `DistributedLock` of `@layercake/core` in Redis (standalone, Sentinel
 * or Cluster), over the `RedisConnection` in context: stampede protection
 * across a fleet of instances that share a Redis.
 *
 * - A held lease is one key, `<keyPrefix>~lock:<key>` (the cache's full key,
 *   namespace included), holding a random token (`crypto.randomUUID`) that
 *   proves ownership. `tryAcquire` is one `SET NX PX lease`; in Cluster the
 *   key routes to its own slot like any other.
 * - `extend` and `release` are Lua scripts that check the token before they
 *   touch the key (`PEXPIRE` / `DEL`), so an instance whose lease expired and
 *   was taken by another never extends or deletes the other's lease. They run
 *   with EVALSHA, falling back to EVAL when the server lost its script cache.
 * - Every call is bounded by `operationTimeout` (measured on the Effect
 *   `Clock`) and fails with a `DistributedLockError` on a Redis error or a
 *   timeout; the connection has no offline queue, so calls fail at once while
 *   Redis is down. The `Cache` then computes without the lock. A lease granted
 *   after its `tryAcquire` timed out is released as soon as the reply comes.
 * - The lease lives on Redis' clock, not the instances': no clock sync needed.
 *
 * @since 0.1.0
 */
import type { DistributedLock } from "@layercake/core"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as internal from "./internal/lock.js"
import type { RedisConnection } from "./RedisConnection.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * Prepended to every lock key (a `:` is added when it does not end with
   * one), as in `RedisTier`. Default `"layercake"`. Well-formed Unicode
   * without `{` or `}`: in Cluster a hash tag in the prefix would put every
   * lock in one slot.
   */
  readonly keyPrefix?: string | undefined
  /** How long a lease lasts unless extended (rounded up to whole milliseconds). Default 10 seconds. */
  readonly lease?: Duration.DurationInput | undefined
  /** How long an instance waits for another's compute before computing itself. Default twice `lease`. */
  readonly waitTimeout?: Duration.DurationInput | undefined
  /** Bound of every Redis call. Default 250 ms. */
  readonly operationTimeout?: Duration.DurationInput | undefined
}

/**
 * The lock service, over the connection in context. An invalid option is a
 * defect naming it (an `InvalidOptionError`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: Options) => Effect.Effect<DistributedLock.DistributedLock, never, RedisConnection> =
  internal.make

/**
 * @example
 * ```ts
 * import { RedisConnection, RedisLock } from "@layercake/redis"
 * import { Layer } from "effect"
 *
 * const LockLive = RedisLock.layer({ keyPrefix: "myservice", lease: "5 seconds" }).pipe(
 *   Layer.provide(RedisConnection.layer({ url: "redis://127.0.0.1:6379" }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<DistributedLock.DistributedLock, never, RedisConnection> =>
  Layer.effect(internal.DistributedLockTag, internal.make(options))

/**
 * The lock with its options read from `Config`.
 *
 * @example
 * ```ts
 * import { RedisLock } from "@layercake/redis"
 * import * as Config from "effect/Config"
 *
 * const lock = RedisLock.layerConfig({
 *   keyPrefix: Config.string("CACHE_KEY_PREFIX"),
 *   lease: Config.duration("CACHE_LOCK_LEASE").pipe(Config.withDefault("10 seconds"))
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<Options>
): Layer.Layer<DistributedLock.DistributedLock, ConfigError.ConfigError, RedisConnection> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), layer))
