/**
 * The code of docs/concepts.md, type-checked by `pnpm check`.
 */
import { Cache, CacheTier, InvalidationBus } from "@layercake/core"
import { SharedTier } from "@layercake/core/testing"
import { MemoryTier } from "@layercake/memory"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Schema from "effect/Schema"

// --- Stacking ------------------------------------------------------------------

export const Tiers = CacheTier.stack(
  MemoryTier.layer({ name: "memory", maxEntries: 10_000, maxTtl: "30 seconds" }),
  SharedTier.layer({ name: "shared" })
)

export const CacheLive = Cache.layer({ namespace: "app" }).pipe(Layer.provide(Tiers))

// --- The invalidation bus: two instances in one process --------------------------

export const twoInstances = Effect.gen(function*() {
  const shared = yield* Layer.build(SharedTier.layer()) // one store both instances see
  const bus = yield* Layer.build(InvalidationBus.layerMemory) // one bus both instances use
  const instance = Cache.layer({ namespace: "app" }).pipe(
    Layer.provide(CacheTier.stack(MemoryTier.layer(), Layer.succeedContext(shared))),
    Layer.provide(Layer.succeedContext(bus))
  )
  const a = Context.get(yield* Layer.build(instance), Cache.Cache)
  const b = Context.get(yield* Layer.build(instance), Cache.Cache)

  yield* a.set("greeting", Schema.String, "hello")
  yield* b.get("greeting", Schema.String) // from the shared tier, promoted into b's memory tier
  yield* a.set("greeting", Schema.String, "bonjour") // b's memory copy is dropped by the bus message
  yield* Effect.yieldNow() // let b's subscriber fiber apply it
  yield* Console.log(yield* b.get("greeting", Schema.String)) // Some("bonjour"), read from the shared tier
}).pipe(Effect.scoped)

// --- Observability ---------------------------------------------------------------

export const hitsOfApp = Metric.value(Cache.metrics.hits.pipe(Metric.tagged("namespace", "app")))

export const memoryHitsOfApp = Metric.value(
  Cache.metrics.tier.hits.pipe(Metric.tagged("namespace", "app"), Metric.tagged("tier", "memory"))
)

// Every layercake counter, for an exporter of your choice:
export const layercakeMetrics = Effect.map(
  Metric.snapshot,
  (pairs) => pairs.filter((pair) => pair.metricKey.name.startsWith("layercake_"))
)
