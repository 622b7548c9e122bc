/**
 * An `InvalidationBus` over Redis: every instance's `Cache` hears the
 * invalidations, sets and clears made anywhere in the fleet, and recovers the
 * messages it missed.
 *
 * Messages are small (sender, namespace, keys / tags), never values. Each
 * namespace has a channel (sharded pub/sub on Cluster, plain pub/sub
 * elsewhere) and a Redis Stream that keeps the last `streamMaxLen` messages
 * with consecutive sequence numbers. A receiver that sees a hole, reconnects,
 * or finds at a health check that the sequence moved past what it got, reads
 * what it missed from the stream; when the stream no longer holds it, the
 * `Cache` drops its local entries of the namespace. The stream is also an audit
 * log of invalidations (read it with `XRANGE`, or `RedisStreams`).
 *
 * @example
 * ```ts
 * import { Cache, CacheTier } from "@layercake/core"
 * import { MemoryTier } from "@layercake/memory"
 * import { RedisBus, RedisConnection, RedisTier } from "@layercake/redis"
 * import { Layer } from "effect"
 *
 * const CacheLive = Cache.layer({ namespace: "app" }).pipe(
 *   Layer.provide(CacheTier.stack(MemoryTier.layer(), RedisTier.layer({ keyPrefix: "app" }))),
 *   Layer.provide(RedisBus.layer({ keyPrefix: "app" })),
 *   Layer.provide(RedisConnection.layer({ url: "redis://127.0.0.1:6379" }))
 * )
 * ```
 *
 * @since 0.1.0
 */
import { InvalidationBus } from "@layercake/core"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as internal from "./internal/bus.js"
import type * as RedisConnection from "./RedisConnection.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Prefix of the bus's keys and channels (`{<keyPrefix>~bus:<namespace>}:…`). Default `"layercake"`. */
  readonly keyPrefix?: string | undefined
  /** Messages each namespace's stream keeps for replay (approximate trimming). Default 10 000. */
  readonly streamMaxLen?: number | undefined
  /** How often the receiver compares the namespace's sequence with what it got. Default 1 second. */
  readonly healthCheckInterval?: Duration.DurationInput | undefined
  /** Bound of each Redis call of the bus. Default 1 second. */
  readonly operationTimeout?: Duration.DurationInput | undefined
  /** Attempts of a failed publish, retried in the background with backoff. Default 20. */
  readonly publishAttempts?: number | undefined
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make: (
  options?: Options
) => Effect.Effect<InvalidationBus.InvalidationBus, never, RedisConnection.RedisConnection | Scope.Scope> =
  internal.make

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options?: Options
): Layer.Layer<InvalidationBus.InvalidationBus, never, RedisConnection.RedisConnection> =>
  Layer.scoped(InvalidationBus.InvalidationBus, internal.make(options))
