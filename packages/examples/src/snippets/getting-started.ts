/**
 * The code of docs/getting-started.md, type-checked by `pnpm check`.
 */
import { Cache } from "@layercake/core"
import { MemoryTier } from "@layercake/memory"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

// --- A first cache -----------------------------------------------------------

export const Product = Schema.Struct({
  sku: Schema.String,
  price: Schema.Number,
  updatedAt: Schema.Date
})

export class ProductNotFound extends Schema.TaggedError<ProductNotFound>()("ProductNotFound", { sku: Schema.String }) {}

// Your data source: any Effect, with any error and requirements.
export class Catalog extends Context.Tag("Catalog")<Catalog, {
  readonly find: (sku: string) => Effect.Effect<typeof Product.Type, ProductNotFound>
}>() {}

export const CacheLive = Cache.layer({ namespace: "shop" }).pipe(
  Layer.provide(MemoryTier.layer({ maxEntries: 50_000 }))
)

export const getProduct = (sku: string) =>
  Effect.flatMap(Catalog, (catalog) =>
    Cache.getOrCompute(`product:${sku}`, Product, catalog.find(sku), {
      ttl: "10 minutes",
      tags: [`sku:${sku}`]
    }))
// getProduct: (sku: string) => Effect<Product, ProductNotFound | Cache.ComputeTimeoutError, Catalog | Cache.Cache>

// --- The service or the accessors ----------------------------------------------

export const withService = Effect.gen(function*() {
  const cache = yield* Cache.Cache
  const catalog = yield* Catalog
  return yield* cache.getOrCompute("product:a-1", Product, catalog.find("a-1"))
})

// --- Options -------------------------------------------------------------------

export const Configured = Cache.layer({
  namespace: "shop",
  defaultTtl: "10 minutes",
  jitter: 0.1, // each ttl is multiplied by a random factor in [0.9, 1]
  staleIfError: "1 hour", // a default for every call below
  hardTimeout: "5 seconds"
}).pipe(Layer.provide(MemoryTier.layer()))

export const FromConfig = Cache.layerConfig({
  namespace: Config.string("CACHE_NAMESPACE").pipe(Config.withDefault("shop")),
  defaultTtl: Config.duration("CACHE_TTL").pipe(Config.withDefault(Duration.minutes(10)))
}).pipe(
  Layer.provide(
    MemoryTier.layerConfig({ maxEntries: Config.integer("CACHE_ENTRIES").pipe(Config.withDefault(50_000)) })
  )
)

// --- The other operations ------------------------------------------------------

export const operations = Effect.gen(function*() {
  const product = { sku: "a-1", price: 10, updatedAt: new Date() }

  // write a value you already have (fails only with a ParseError when it does not encode)
  yield* Cache.set("product:a-1", Product, product, { ttl: "10 minutes", tags: ["sku:a-1"] })

  // read without computing: Some while fresh (or stale within the layer's staleWhileRevalidate)
  const cached: Option.Option<typeof Product.Type> = yield* Cache.get("product:a-1", Product)

  yield* Cache.invalidate("product:a-1") // one key, or an array of keys
  yield* Cache.invalidateTags(["sku:a-1"]) // every entry written with one of these tags
  yield* Cache.clear // every entry of this namespace, in every tier

  const stats = yield* Cache.stats
  yield* Console.log(Option.isSome(cached), stats.hits, stats.misses, stats.computes)
})

// --- Errors --------------------------------------------------------------------

export const handled = getProduct("a-1").pipe(
  Effect.map(Option.some),
  Effect.catchTags({
    ProductNotFound: () => Effect.succeedNone,
    ComputeTimeoutError: (error) => Effect.as(Effect.logWarning(error.message), Option.none())
  })
)

// --- Provide the layer once ----------------------------------------------------

export const CatalogLive = Layer.succeed(Catalog, {
  find: (sku) => Effect.succeed({ sku, price: 10, updatedAt: new Date() })
})

// Wrong: every call builds a new, empty cache and closes it when the call ends.
export const lookupWrong = (sku: string) => getProduct(sku).pipe(Effect.provide(CacheLive))

// Right: the program uses the accessors, and the layer is provided once at the root.
export const main = Effect.gen(function*() {
  yield* getProduct("a-1") // a miss: computes
  yield* getProduct("a-1") // an L1 hit
}).pipe(Effect.provide(Layer.mergeAll(CacheLive, CatalogLive)))

// Outside Effect (an HTTP framework's handlers, a script): one runtime for the process.
export const runtime = ManagedRuntime.make(Layer.mergeAll(CacheLive, CatalogLive))
export const handler = (sku: string) => runtime.runPromise(getProduct(sku))
// At shutdown, `await runtime.dispose()` closes the cache: its background fibers are interrupted.
