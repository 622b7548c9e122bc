/**
 * One instance of a fleet, as its own process: a `Cache` (MemoryTier L1 over
 * RedisTier L2, optionally the Redis invalidation bus and lock) in one
 * `ManagedRuntime`, driven over IPC by `fleet.ts`.
 *
 * Started with `child_process.fork(child.ts, { execArgv: ["--import", "tsx",
 * "--conditions=@layercake/source"] })` and its configuration (`ChildConfig`,
 * JSON) in the `FLEET_CHILD_CONFIG` environment variable or as the first
 * argument. It answers requests `{ id, op, ... }` with `{ id, ok, value }` or
 * `{ id, ok: false, error }`, and sends events (`ready`, `computeStarted`).
 *
 * The source of truth is a Redis hash, `<keyPrefix>~truth:<namespace>` (field
 * = key, value = the JSON of a `Value`), read by compute with a plain ioredis
 * client of this process. Every compute is counted.
 *
 * Only types are exported: the driver imports them with `import type`.
 */
import { Cache, CacheTier } from "@layercake/core"
import { MemoryTier } from "@layercake/memory"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { Redis } from "ioredis"
import { RedisConnection, RedisTier } from "../../src/index.js"

/** Where the cache's Redis is: one server, or the startup nodes of a Cluster. */
export type RedisTarget =
  | { readonly url: string }
  | { readonly cluster: ReadonlyArray<{ readonly host: string; readonly port: number }> }

export interface ChildConfig {
  /** The name of this instance in errors and logs. */
  readonly name: string
  /** The Redis of the cache (L2, bus, lock). */
  readonly redis: RedisTarget
  /** The standalone Redis holding the source of truth (kept apart so that faults of the cache's Redis spare it). */
  readonly truthUrl: string
  readonly keyPrefix: string
  readonly namespace: string
  /** Provide `RedisBus.layer({ keyPrefix, ...busOptions })` to the cache. */
  readonly bus: boolean
  readonly busOptions?: { readonly healthCheckInterval?: number | undefined } | undefined
  /** Provide `RedisLock.layer({ keyPrefix, lease, waitTimeout })` to the cache. */
  readonly lock: boolean
  readonly lockOptions?: {
    readonly leaseMillis?: number | undefined
    readonly waitTimeoutMillis?: number | undefined
  } | undefined
  /** This instance's clock skew: every `Clock` read of the cache runtime is the live clock plus this. */
  readonly clockOffsetMillis: number
  /** Passed to `RedisTier.layer` besides `keyPrefix`. */
  readonly tierOptions?: { readonly operationTimeoutMillis?: number | undefined } | undefined
  /** The cache's default ttl. Default 5 minutes. */
  readonly defaultTtlMillis?: number | undefined
}

/** The cached value: small and nested, so that it goes through a real Schema encode and decode. */
export const Value = Schema.Struct({
  id: Schema.String,
  version: Schema.Number,
  body: Schema.String,
  meta: Schema.Struct({ group: Schema.Number, writer: Schema.String })
})
export type Value = typeof Value.Type

export interface ComputeOptions {
  /** How long the compute takes (after reading the truth). Default 0. */
  readonly delayMillis?: number | undefined
  /** The compute waits until `openGate(gate)` (a source that hangs, for the owner-killed test). */
  readonly gate?: string | undefined
}

/** Requests and the value each answers with. */
export interface Ops {
  readonly getOrCompute: {
    readonly req: { readonly key: string; readonly tags?: ReadonlyArray<string> | undefined } & ComputeOptions
    readonly res: Value
  }
  /** `count` concurrent `getOrCompute` of one key in this process; the distinct values they returned. */
  readonly burst: {
    readonly req: {
      readonly key: string
      readonly count: number
      readonly tags?: ReadonlyArray<string> | undefined
    } & ComputeOptions
    readonly res: { readonly values: ReadonlyArray<Value>; readonly millis: number }
  }
  readonly get: { readonly req: { readonly key: string }; readonly res: Value | null }
  readonly set: {
    readonly req: { readonly key: string; readonly value: Value; readonly tags?: ReadonlyArray<string> | undefined }
    readonly res: null
  }
  readonly invalidate: { readonly req: { readonly keys: ReadonlyArray<string> }; readonly res: null }
  readonly invalidateTags: { readonly req: { readonly tags: ReadonlyArray<string> }; readonly res: null }
  readonly invalidatePattern: { readonly req: { readonly pattern: string }; readonly res: null }
  readonly clear: { readonly req: object; readonly res: null }
  readonly stats: { readonly req: object; readonly res: Cache.Stats }
  readonly computes: {
    readonly req: object
    readonly res: { readonly total: number; readonly byKey: Readonly<Record<string, number>> }
  }
  readonly openGate: { readonly req: { readonly gate: string }; readonly res: null }
  /** The cache runtime's clock, and the one it had while the layer was built (both skewed). */
  readonly clock: { readonly req: object; readonly res: { readonly now: number; readonly atBuild: number } }
  /** What this instance can do (`invalidatePattern` is optional in the library). */
  readonly capabilities: { readonly req: object; readonly res: { readonly invalidatePattern: boolean } }
  readonly exit: { readonly req: object; readonly res: null }
}

export type Op = keyof Ops

export type Request<O extends Op = Op> = O extends Op ? { readonly id: number; readonly op: O } & Ops[O]["req"] : never

export type Response =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string }

export type ChildEvent =
  | { readonly event: "ready"; readonly pid: number }
  | { readonly event: "computeStarted"; readonly key: string; readonly at: number }
  | { readonly event: "fatal"; readonly error: string }

const readConfig = (): ChildConfig => {
  const text = process.env.FLEET_CHILD_CONFIG ?? process.argv[2]
  if (text === undefined) throw new Error("fleet child: no configuration (FLEET_CHILD_CONFIG or argv[2])")
  return JSON.parse(text) as ChildConfig
}

const send = (message: Response | ChildEvent) => {
  if (process.connected) process.send!(message)
}

/** The live clock moved by `offset` milliseconds; sleeping is not skewed. */
const skewedClock = (offset: number): Clock.Clock => {
  const live = Clock.make()
  const offsetNanos = BigInt(offset) * 1_000_000n
  return {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => live.unsafeCurrentTimeMillis() + offset,
    currentTimeMillis: Effect.sync(() => live.unsafeCurrentTimeMillis() + offset),
    unsafeCurrentTimeNanos: () => live.unsafeCurrentTimeNanos() + offsetNanos,
    currentTimeNanos: Effect.sync(() => live.unsafeCurrentTimeNanos() + offsetNanos),
    sleep: (duration) => live.sleep(duration)
  }
}

const main = async () => {
  const config = readConfig()
  const clock = skewedClock(config.clockOffsetMillis)
  const truthKey = `${config.keyPrefix}~truth:${config.namespace}`
  const truth = new Redis(config.truthUrl, { lazyConnect: true, maxRetriesPerRequest: 3 })
  truth.on("error", () => {})
  await truth.connect()

  const computes = { total: 0, byKey: {} as Record<string, number> }
  const gates = new Map<string, Deferred.Deferred<void>>()
  const gate = (name: string) => {
    let deferred = gates.get(name)
    if (deferred === undefined) {
      deferred = Deferred.unsafeMake<void>(FiberId.none)
      gates.set(name, deferred)
    }
    return deferred
  }

  const compute = (key: string, group: number, options: ComputeOptions): Effect.Effect<Value, Error> =>
    Effect.gen(function*() {
      computes.total++
      computes.byKey[key] = (computes.byKey[key] ?? 0) + 1
      send({ event: "computeStarted", key, at: Date.now() })
      if (options.gate !== undefined) yield* Deferred.await(gate(options.gate))
      const text = yield* Effect.tryPromise({
        try: () => truth.hget(truthKey, key),
        catch: (error) => new Error(`reading the truth of ${key}: ${String(error)}`)
      })
      if (options.delayMillis !== undefined && options.delayMillis > 0) {
        yield* Effect.sleep(options.delayMillis)
      }
      // A key the truth does not hold reads as version 0.
      if (text === null) return { id: key, version: 0, body: "", meta: { group, writer: "none" } }
      return yield* Schema.decodeUnknown(Schema.parseJson(Value))(text).pipe(
        Effect.mapError((error) => new Error(`the truth of ${key} does not decode: ${error.message}`))
      )
    })

  const connection = RedisConnection.layer(
    "url" in config.redis
      ? { url: config.redis.url }
      : { options: { cluster: { nodes: config.redis.cluster.map(({ host, port }) => ({ host, port })) } } }
  )
  const l2 = RedisTier.layer({
    keyPrefix: config.keyPrefix,
    ...(config.tierOptions?.operationTimeoutMillis === undefined
      ? {}
      : { operationTimeout: config.tierOptions.operationTimeoutMillis })
  })
  let cacheLayer: Layer.Layer<Cache.Cache, never, RedisConnection.RedisConnection> = Cache.layer({
    namespace: config.namespace,
    defaultTtl: config.defaultTtlMillis ?? "5 minutes"
  }).pipe(Layer.provide(CacheTier.stack(MemoryTier.layer({ maxEntries: 10_000 }), l2)))
  // Loaded only when asked for, so that the harness runs without them (`bus: false`, `lock: false`).
  if (config.bus) {
    const RedisBus = await import("../../src/RedisBus.js")
    cacheLayer = cacheLayer.pipe(Layer.provide(RedisBus.layer({ ...config.busOptions, keyPrefix: config.keyPrefix })))
  }
  if (config.lock) {
    const RedisLock = await import("../../src/RedisLock.js")
    const { leaseMillis, waitTimeoutMillis } = config.lockOptions ?? {}
    cacheLayer = cacheLayer.pipe(Layer.provide(RedisLock.layer({
      keyPrefix: config.keyPrefix,
      ...(leaseMillis === undefined ? {} : { lease: leaseMillis }),
      ...(waitTimeoutMillis === undefined ? {} : { waitTimeout: waitTimeoutMillis })
    })))
  }
  let clockAtBuild = 0
  const probe = Layer.effectDiscard(Effect.map(Clock.currentTimeMillis, (now) => {
    clockAtBuild = now
  }))
  const CacheLive = Layer.merge(cacheLayer, probe).pipe(
    Layer.provide(connection),
    Layer.provide(Logger.minimumLogLevel(LogLevel.Error)),
    Layer.provide(Layer.setClock(clock))
  )
  const runtime = ManagedRuntime.make(CacheLive)
  const cache = await runtime.runPromise(Cache.Cache)

  const tagsOf = (tags: ReadonlyArray<string> | undefined) => tags === undefined ? {} : { tags }
  const groupOf = (tags: ReadonlyArray<string> | undefined) => {
    const tag = tags?.find((tag) => tag.startsWith("group:"))
    return tag === undefined ? -1 : Number(tag.slice("group:".length))
  }

  const handle = (request: Request): Effect.Effect<unknown, unknown> => {
    switch (request.op) {
      case "getOrCompute":
        return cache.getOrCompute(
          request.key,
          Value,
          compute(request.key, groupOf(request.tags), request),
          tagsOf(request.tags)
        )
      case "burst":
        return Effect.gen(function*() {
          const start = Date.now()
          const results = yield* Effect.forEach(
            Array.from({ length: request.count }),
            () =>
              cache.getOrCompute(request.key, Value, compute(request.key, groupOf(request.tags), request), {
                ...tagsOf(request.tags)
              }),
            { concurrency: "unbounded" }
          )
          const distinct = new Map(results.map((value) => [JSON.stringify(value), value]))
          return { values: [...distinct.values()], millis: Date.now() - start }
        })
      case "get":
        return Effect.map(cache.get(request.key, Value), Option.getOrNull)
      case "set":
        return Effect.as(cache.set(request.key, Value, request.value, tagsOf(request.tags)), null)
      case "invalidate":
        return Effect.as(cache.invalidate(request.keys), null)
      case "invalidateTags":
        return Effect.as(cache.invalidateTags(request.tags), null)
      case "invalidatePattern": {
        const invalidatePattern = (cache as { readonly invalidatePattern?: (pattern: string) => Effect.Effect<void> })
          .invalidatePattern
        if (typeof invalidatePattern !== "function") {
          return Effect.fail(new Error("Cache.invalidatePattern is not implemented"))
        }
        return Effect.as(invalidatePattern.call(cache, request.pattern), null)
      }
      case "clear":
        return Effect.as(cache.clear, null)
      case "stats":
        return cache.stats
      case "computes":
        return Effect.sync(() => ({ total: computes.total, byKey: { ...computes.byKey } }))
      case "openGate":
        return Effect.as(Deferred.succeed(gate(request.gate), undefined), null)
      case "clock":
        return Effect.map(Clock.currentTimeMillis, (now) => ({ now, atBuild: clockAtBuild }))
      case "capabilities":
        return Effect.sync(() => ({ invalidatePattern: typeof (cache as any).invalidatePattern === "function" }))
      case "exit":
        return Effect.succeed(null)
    }
  }

  const errorText = (cause: unknown) => cause instanceof Error ? cause.message : String(cause)

  let exiting = false
  const shutdown = async (code: number) => {
    if (exiting) return
    exiting = true
    await Promise.race([runtime.dispose(), new Promise((resolve) => setTimeout(resolve, 3_000))])
    truth.disconnect()
    process.exit(code)
  }

  process.on("message", (message: Request) => {
    void runtime.runPromiseExit(Effect.withClock(handle(message), clock)).then((exit) => {
      if (Exit.isSuccess(exit)) send({ id: message.id, ok: true, value: exit.value })
      else {
        const failure = exit.cause._tag === "Fail" ? errorText(exit.cause.error) : String(exit.cause)
        send({ id: message.id, ok: false, error: `${config.name}: ${failure}` })
      }
      if (message.op === "exit") void shutdown(0)
    })
  })
  // The driver went away (or crashed): do not linger.
  process.on("disconnect", () => void shutdown(0))
  send({ event: "ready", pid: process.pid })
}

main().catch((error) => {
  send({ event: "fatal", error: error instanceof Error ? error.stack ?? error.message : String(error) })
  process.exit(1)
})
