/**
 * The code of docs/tier-middleware.md, type-checked by `pnpm check`. Run it with
 * `pnpm --filter @layercake/examples exec tsx --conditions=@layercake/source src/snippets/tierMiddleware.ts`.
 */
import * as KeyValueStore from "@effect/platform/KeyValueStore"
import { Cache, CacheTier, InvalidationBus } from "@layercake/core"
import { FaultyTier, SharedTier } from "@layercake/core/testing"
import { MemoryTier } from "@layercake/memory"
import { KeyValueStoreTier } from "@layercake/platform"
import { type RedisConnection, RedisTier } from "@layercake/redis"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import { fileURLToPath } from "node:url"

// --- The shape ---------------------------------------------------------------------

export const Intro: Layer.Layer<CacheTier.CacheTier, never, RedisConnection.RedisConnection> = CacheTier.stack(
  MemoryTier.layer(),
  RedisTier.layer().pipe(CacheTier.withTimeout({ timeout: "50 millis" }))
)

// --- Around any tier ---------------------------------------------------------------

// A shared key-value store (the in-memory one of @effect/platform stands in for a remote one),
// with the three middleware in the recommended order: the timeout bounds each attempt, the
// breaker counts each attempt, and the retry stops as soon as the circuit opens.
export const remote = KeyValueStoreTier.layer({ name: "kv" }).pipe(
  Layer.provide(KeyValueStore.layerMemory),
  CacheTier.withTimeout({ timeout: "100 millis" }),
  CacheTier.withCircuitBreaker({ failureThreshold: 5, openFor: "5 seconds" }),
  CacheTier.withRetry({ times: 2, delay: "20 millis" })
)

export const Tiers = CacheTier.stack(MemoryTier.layer({ maxEntries: 10_000 }), remote)

export const CacheLive = Cache.layer({ namespace: "app" }).pipe(Layer.provide(Tiers))

// --- On a tier value -------------------------------------------------------------------

// The same functions take a tier and give the wrapped tier, e.g. inside your own tier's layer:
export const boundedTier = Effect.map(
  KeyValueStoreTier.make({ name: "kv" }),
  CacheTier.withTimeout({ timeout: "100 millis", operations: ["get"] })
)

// --- Retries on your own schedule --------------------------------------------------------

export const retriedOnSchedule = SharedTier.layer().pipe(
  CacheTier.withRetry({ times: 3, schedule: Schedule.spaced("10 millis"), reasons: ["Unavailable", "Timeout"] })
)

// --- Redis -------------------------------------------------------------------------------

// RedisTier bounds each Redis call (operationTimeout) and has a breaker per node of its own.
// withTimeout on top bounds a whole tier operation, which may be many calls (a clear sweeps
// every master); for the usual bound per call, set operationTimeout instead.
export const RedisTiers: Layer.Layer<CacheTier.CacheTier, never, RedisConnection.RedisConnection> = CacheTier.stack(
  MemoryTier.layer(),
  RedisTier.layer({ operationTimeout: "50 millis" }).pipe(CacheTier.withTimeout({ timeout: "2 seconds" }))
)

// --- A broken store, with the test kit -----------------------------------------------------

/** Prints what `effect` gave and how long it took. */
const timed = <A, E, R>(label: string, effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(
    Effect.timed(effect),
    ([duration, value]) =>
      Console.log(`${label}: ${JSON.stringify(value)} in ${Math.round(Duration.toMillis(duration))} ms`)
  )

// FaultyTier composes with the middleware like any tier layer.
export const faults = FaultyTier.makeFaults()

export const FaultyCacheLive = Cache.layer({ namespace: "demo" }).pipe(
  Layer.provide(CacheTier.stack(
    MemoryTier.layer(),
    FaultyTier.layer(faults, SharedTier.layer({ name: "shared" })).pipe(
      CacheTier.withTimeout({ timeout: "50 millis" }),
      CacheTier.withCircuitBreaker({ failureThreshold: 2, openFor: "10 seconds" })
    )
  )),
  Layer.provide(InvalidationBus.layerMemory)
)

export const brokenStore = Effect.gen(function*() {
  const cache = Context.get(yield* Layer.build(FaultyCacheLive), Cache.Cache)
  yield* cache.set("kept", Schema.String, "in memory")
  faults.stall("1 hour") // the shared store stops answering

  // Served from the memory tier: the shared tier is not asked.
  yield* timed("get kept", cache.get("kept", Schema.String))
  // A miss waits for the shared tier's read (50 ms) and write-back (50 ms), both time out:
  // two failures open the circuit.
  yield* timed("miss 1", cache.getOrCompute("a", Schema.String, Effect.succeed("computed")))
  // The circuit is open: the shared tier is skipped at once.
  yield* timed("miss 2", cache.getOrCompute("b", Schema.String, Effect.succeed("computed")))
}).pipe(Effect.scoped)

if (process.argv[1] === fileURLToPath(import.meta.url)) Effect.runPromise(brokenStore)
