/**
 * One managed ioredis client (standalone, Sentinel or Cluster), shared by
 * `RedisTier` and the other Redis services of layercake, plus duplicates for
 * subscriptions created on demand.
 *
 * The layer owns what it opens: it attaches an `error` listener to every
 * connection it creates (so ioredis never prints "Unhandled error event"),
 * connects, and on release `quit`s (bounded) and disconnects. An unreachable
 * Redis does not block start-up: the layer builds within `connectTimeout`
 * and the client reconnects in the background while its users degrade;
 * `failFast: true` fails the build instead.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import type * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions } from "ioredis"
import * as internal from "./internal/connection.js"
import * as internalTag from "./internal/connectionTag.js"

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
 * An ioredis client: a single server (standalone or Sentinel) or a Cluster.
 *
 * @since 0.1.0
 * @category models
 */
export type Client = Redis | Cluster

/**
 * @since 0.1.0
 * @category models
 */
export interface RedisConnection {
  readonly [TypeId]: TypeId
  /** The shared client for ordinary commands. Never put it in subscriber mode: use `duplicate`. */
  readonly client: Client
  /** `true` when `client` is a Cluster (multi-key commands must stay within one slot). */
  readonly isCluster: boolean
  /**
   * A new connection like `client`, for subscriptions (a connection in
   * subscriber mode runs no other command). It has an `error` listener and is
   * closed when the scope closes. Unlike `client` it keeps an offline queue, so
   * a `subscribe` sent while it connects waits for the connection: bound it
   * with a timeout.
   */
  readonly duplicate: Effect.Effect<Client, never, Scope.Scope>
}

/**
 * @since 0.1.0
 * @category tags
 */
export const RedisConnection: Context.Tag<RedisConnection, RedisConnection> = internalTag.tag

/**
 * The connection could not be made (only with `failFast: true`) or ioredis
 * refused the options. Options layercake checks itself (`connectTimeout`,
 * `failFast`) are a defect naming the option instead.
 *
 * @since 0.1.0
 * @category errors
 */
export const RedisConnectionError: new(
  args: ConstructorParameters<typeof internalTag.RedisConnectionError>[0]
) => RedisConnectionError = internalTag.RedisConnectionError

/**
 * @since 0.1.0
 * @category errors
 */
export interface RedisConnectionError extends internalTag.RedisConnectionError {}

/**
 * ioredis options for one server, or for Sentinel (`sentinels` and `name`).
 * `replyMapping` is left out: the layercake services read replies in the
 * default (legacy) shapes.
 *
 * @since 0.1.0
 * @category models
 */
export type ClientOptions = Omit<RedisOptions, "replyMapping">

/**
 * ioredis Cluster options (`redisOptions` without `replyMapping`).
 *
 * @since 0.1.0
 * @category models
 */
export type ClusterClientOptions = Omit<ClusterOptions, "redisOptions"> & {
  readonly redisOptions?: Omit<NonNullable<ClusterOptions["redisOptions"]>, "replyMapping"> | undefined
}

/**
 * A Cluster: its startup nodes and options.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClusterConfig {
  readonly nodes: ReadonlyArray<ClusterNode>
  readonly options?: ClusterClientOptions | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** `redis://` or `rediss://` URL of a single server. Not with `options.cluster`. */
  readonly url?: string | Redacted.Redacted<string> | undefined
  /**
   * ioredis options (Sentinel: `sentinels` and `name`), or `{ cluster: { nodes, options } }`.
   *
   * Defaults that differ from ioredis (override them here if you must):
   * `enableOfflineQueue: false` (a command sent while disconnected fails at once
   * instead of waiting for the reconnect) and `maxRetriesPerRequest: 1`.
   * `lazyConnect` is always on: the layer connects after attaching its listeners.
   */
  readonly options?: ClientOptions | { readonly cluster: ClusterConfig } | undefined
  /** Fail the build when Redis cannot be reached at start-up. Default `false`: build and degrade. */
  readonly failFast?: boolean | undefined
  /** How long the build waits for the first connection (also ioredis' `connectTimeout`). Default 3 seconds. */
  readonly connectTimeout?: Duration.DurationInput | undefined
}

/**
 * A connection from options; closed (`quit`, then `disconnect`) when the
 * scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options: Options) => Effect.Effect<RedisConnection, RedisConnectionError, Scope.Scope> =
  internal.make

/**
 * @example
 * ```ts
 * import { RedisConnection } from "@layercake/redis"
 *
 * const standalone = RedisConnection.layer({ url: "redis://127.0.0.1:6379" })
 * const sentinel = RedisConnection.layer({
 *   options: { sentinels: [{ host: "127.0.0.1", port: 26379 }], name: "mymaster" }
 * })
 * const cluster = RedisConnection.layer({
 *   options: { cluster: { nodes: [{ host: "127.0.0.1", port: 7000 }] } }
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<RedisConnection, RedisConnectionError> =>
  internal.layer(options)

/**
 * The connection from configuration.
 *
 * @example
 * ```ts
 * import { Config } from "effect"
 * import { RedisConnection } from "@layercake/redis"
 *
 * const live = RedisConnection.layerConfig({ url: Config.redacted("REDIS_URL") })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<Options>
): Layer.Layer<RedisConnection, RedisConnectionError | ConfigError.ConfigError> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), internal.layer))

/**
 * Wraps a client you manage. It is not connected, watched or closed by the
 * layer (we do not quit what we did not open); duplicates made from it are.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromClient = (client: Client): Layer.Layer<RedisConnection> =>
  Layer.succeed(RedisConnection, internal.fromClient(client))
