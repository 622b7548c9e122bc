import { Validate } from "@layercake/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import { Cluster, Redis } from "ioredis"
import type * as Api from "../RedisConnection.js"
import { RedisConnectionError, tag as RedisConnection, TypeId } from "./connectionTag.js"

const DEFAULT_CONNECT_TIMEOUT = 3_000
/** How long `quit` may take on release before the socket is dropped. */
const QUIT_TIMEOUT = 1_000

type Client = Api.Client

const isCluster = (client: Client): client is Cluster => (client as { isCluster?: boolean }).isCluster === true

const describe = (options: Api.Options): string => {
  const clientOptions = options.options
  if (clientOptions !== undefined && "cluster" in clientOptions) return "cluster"
  if (clientOptions !== undefined && clientOptions.sentinels !== undefined) return "sentinel"
  return "standalone"
}

/**
 * Defaults that keep every command bounded: no offline queue (a command sent
 * while disconnected fails at once instead of waiting for a reconnect), and
 * commands caught by a disconnect are failed after one reconnect attempt.
 * The user's options win; `lazyConnect` is ours (we connect after attaching
 * the error listener).
 */
const createClient = (options: Api.Options, connectTimeout: number): Client => {
  const clientOptions = options.options
  if (clientOptions !== undefined && "cluster" in clientOptions) {
    if (options.url !== undefined) throw new Error("RedisConnection: give either `url` or `options.cluster`, not both")
    const { nodes, options: clusterOptions } = clientOptions.cluster
    return new Cluster([...nodes], {
      enableOfflineQueue: false,
      ...clusterOptions,
      redisOptions: { connectTimeout, maxRetriesPerRequest: 1, ...clusterOptions?.redisOptions },
      lazyConnect: true
    })
  }
  const merged = {
    connectTimeout,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    ...clientOptions,
    lazyConnect: true
  }
  return options.url === undefined
    ? new Redis(merged)
    : new Redis(Redacted.isRedacted(options.url) ? Redacted.value(options.url) : options.url, merged)
}

/**
 * An `error` listener on every connection we create (no "[ioredis] Unhandled
 * error event" output), logging the first error of an outage as a warning and
 * the rest at debug level, and the recovery.
 */
const watch = (client: Client, label: string, runtime: Runtime.Runtime<never>): void => {
  const run = Runtime.runFork(runtime)
  let healthy = true
  client.on("error", (error: Error) => {
    const log = healthy
      ? Effect.logWarning(`layercake: Redis (${label}) connection error; commands fail fast until it reconnects`)
      : Effect.logDebug(`layercake: Redis (${label}) connection error`)
    healthy = false
    run(log.pipe(Effect.annotateLogs({ redis: label, error: error.message })))
  })
  client.on("ready", () => {
    if (healthy) return
    healthy = true
    run(
      Effect.logInfo(`layercake: Redis (${label}) connection ready again`).pipe(Effect.annotateLogs({ redis: label }))
    )
  })
  if (isCluster(client)) {
    client.on("node error", (error: Error, address: string) => {
      run(
        Effect.logDebug(`layercake: Redis cluster node ${address} error`).pipe(
          Effect.annotateLogs({ error: error.message })
        )
      )
    })
  }
}

/**
 * Waits until the client is ready, its first connection error, or the
 * timeout, whichever comes first. Reconnection goes on in the background.
 */
const awaitReady = (client: Client, connectTimeout: number): Effect.Effect<void, RedisConnectionError> =>
  Effect.async<void, RedisConnectionError>((resume) => {
    if (client.status === "ready") return resume(Effect.void)
    const onReady = () => {
      cleanup()
      resume(Effect.void)
    }
    const onError = (error: Error) => {
      cleanup()
      resume(Effect.fail(new RedisConnectionError({ reason: "Unavailable", message: error.message, cause: error })))
    }
    const onEnd = () => {
      cleanup()
      resume(Effect.fail(new RedisConnectionError({ reason: "Unavailable", message: "connection closed" })))
    }
    const timer = setTimeout(() => {
      cleanup()
      resume(
        Effect.fail(new RedisConnectionError({ reason: "Timeout", message: `not ready within ${connectTimeout} ms` }))
      )
    }, connectTimeout)
    const cleanup = () => {
      clearTimeout(timer)
      client.off("ready", onReady)
      client.off("error", onError)
      client.off("end", onEnd)
    }
    client.on("ready", onReady)
    client.on("error", onError)
    client.on("end", onEnd)
    client.connect().catch(() => {
      // reported through the events above; ioredis keeps reconnecting
    })
    return Effect.sync(cleanup)
  })

/**
 * `quit` when connected, `disconnect` otherwise or when `quit` takes longer
 * than `QUIT_TIMEOUT`; done when the client reports `end` (reconnection
 * stopped, socket closed). Real timers: a release must not wait on a
 * `TestClock`.
 */
const close = (client: Client): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    let finished = false
    const done = () => {
      if (finished) return
      finished = true
      clearTimeout(forced)
      clearTimeout(givenUp)
      client.off("end", done)
      resume(Effect.void)
    }
    const disconnect = () => {
      client.disconnect()
      // Between two reconnection attempts there is no socket to close, and no `end` comes.
      if (client.status === "end" || socketless(client)) done()
    }
    const forced = setTimeout(disconnect, QUIT_TIMEOUT)
    const givenUp = setTimeout(done, 2 * QUIT_TIMEOUT)
    client.once("end", done)
    if (client.status === "end") done()
    else if (client.status === "ready") client.quit().catch(disconnect)
    else disconnect()
  })

const socketless = (client: Client): boolean =>
  isCluster(client) ? client.nodes().length === 0 : client.status === "reconnecting"

/** Creates, watches and connects a client we own; closed when the scope closes. */
const acquire = (
  create: () => Client,
  label: string,
  connectTimeout: number,
  failFast: boolean
): Effect.Effect<Client, RedisConnectionError, Scope.Scope> =>
  Effect.gen(function*() {
    const runtime = yield* Effect.runtime<never>()
    const client = yield* Effect.acquireRelease(
      Effect.try({
        try: create,
        catch: (cause) =>
          new RedisConnectionError({
            reason: "InvalidOptions",
            message: cause instanceof Error ? cause.message : String(cause),
            cause
          })
      }),
      close
    )
    watch(client, label, runtime)
    yield* awaitReady(client, connectTimeout).pipe(
      Effect.catchAll((error) =>
        failFast
          ? Effect.fail(error)
          : Effect.logWarning(
            `layercake: Redis (${label}) is not reachable at start-up (${error.message}); going on degraded, it reconnects in the background`
          )
      )
    )
    return client
  })

const connectTimeoutOf = (options: Api.Options): number =>
  Validate.optionalDuration("RedisConnection", "connectTimeout", options.connectTimeout, DEFAULT_CONNECT_TIMEOUT)

const service = (client: Client, duplicate: Api.RedisConnection["duplicate"]): Api.RedisConnection => ({
  [TypeId]: TypeId,
  client,
  isCluster: isCluster(client),
  duplicate
})

/** @internal */
export const make = (options: Api.Options): Effect.Effect<Api.RedisConnection, RedisConnectionError, Scope.Scope> =>
  Effect.suspend(() => {
    // invalid options throw an InvalidOptionError naming them: a defect of the build
    const connectTimeout = connectTimeoutOf(options)
    if (options.failFast !== undefined) Validate.boolean("RedisConnection", "failFast", options.failFast)
    const label = describe(options)
    return Effect.map(
      acquire(() => createClient(options, connectTimeout), label, connectTimeout, options.failFast === true),
      (client) => service(client, duplicateOf(client, label, connectTimeout))
    )
  })

/** The commands ioredis sends by itself after a reconnect to restore a subscriber's state. */
const RESTORING_COMMANDS = ["select", "subscribe", "psubscribe", "ssubscribe"] as const

/**
 * ioredis (up to redis/ioredis#2187) re-subscribes after a reconnect without
 * a rejection handler: when the connection closes again before the reply,
 * that promise is an unhandled rejection. Every promise these commands
 * return gets a handler here; whoever called them still sees the rejection.
 */
const handleRestoringRejections = (client: Redis): Redis => {
  for (const name of RESTORING_COMMANDS) {
    const command = (client[name] as (...args: Array<unknown>) => Promise<unknown>).bind(client)
    Object.defineProperty(client, name, {
      configurable: true,
      value: (...args: Array<unknown>) => {
        const reply = command(...args)
        reply.catch(() => {})
        return reply
      }
    })
  }
  return client
}

/**
 * A duplicate for subscriptions. It keeps an offline queue, so a `subscribe`
 * sent while it connects waits for the connection (bound it with a timeout);
 * ioredis re-subscribes after a reconnect. A Cluster duplicate has sharded
 * subscribers (one subscriber connection per master, for `SSUBSCRIBE`).
 */
const duplicateOf = (client: Client, label: string, connectTimeout: number): Api.RedisConnection["duplicate"] =>
  acquire(
    () =>
      isCluster(client)
        ? client.duplicate(undefined, { enableOfflineQueue: true, lazyConnect: true, shardedSubscribers: true })
        : handleRestoringRejections(client.duplicate({ enableOfflineQueue: true, lazyConnect: true })),
    `${label} subscriber`,
    connectTimeout,
    false
  ).pipe(Effect.orDie)

/** @internal */
export const fromClient = (client: Client): Api.RedisConnection =>
  service(client, duplicateOf(client, isCluster(client) ? "cluster" : "standalone", DEFAULT_CONNECT_TIMEOUT))

/** @internal */
export const layer = (options: Api.Options): Layer.Layer<Api.RedisConnection, RedisConnectionError> =>
  Layer.scoped(RedisConnection, make(options))
