/**
 * The code of docs/freshness.md, type-checked by `pnpm check`.
 */
import { Cache } from "@layercake/core"
import { MemoryTier } from "@layercake/memory"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"

// --- Recipes -------------------------------------------------------------------

// Refresh ahead: fresh for 10 minutes. A read after the key's refresh point returns the
// value at once and refreshes it in the background. The refresh point lies between
// minute 6.4 and minute 8 (8 minutes minus up to 20%), fixed per key, so keys written
// together do not all refresh at once.
export const refreshAhead: Cache.EntryOptions = { ttl: "10 minutes", refreshAfter: "8 minutes", refreshJitter: 0.2 }

// Stale-while-revalidate: for 10 minutes after the ttl, a read returns the old value
// at once and refreshes it in the background.
export const revalidate: Cache.EntryOptions = { ttl: "1 minute", staleWhileRevalidate: "10 minutes" }

// Fail-safe: past the ttl a read waits for the source. If the source fails, or takes
// longer than 200 ms, the old value is returned instead, until 6 hours after the ttl.
// While the source fails it is retried at most every 30 seconds. No caller waits longer
// than 3 seconds.
export const failSafe: Cache.EntryOptions = {
  ttl: "5 minutes",
  staleIfError: "6 hours",
  staleIfErrorRetry: "30 seconds",
  softTimeout: "200 millis",
  hardTimeout: "3 seconds"
}

// Negative caching: a "not found" failure is kept 30 seconds, in every tier (Redis too), and served
// to callers whose errorSchema decodes it. errorTtl does not type-check without errorSchema.
export class UserNotFound extends Schema.TaggedError<UserNotFound>()("UserNotFound", { id: Schema.Number }) {}
export const notFoundFor30s = { ttl: "10 minutes", errorTtl: "30 seconds", errorSchema: UserNotFound } as const

// Adaptive caching: ttl and tags may be functions of the computed value.
export const Article = Schema.Struct({ id: Schema.Number, authorId: Schema.Number, draft: Schema.Boolean })
export const byAuthor: Cache.EntryOptions<typeof Article.Type> = {
  ttl: (article) => article.draft ? "10 seconds" : "1 hour",
  tags: (article) => [`author:${article.authorId}`]
}

// --- Defaults for the whole layer ---------------------------------------------------

// Every call of this cache gets these unless it passes its own; `get` reads
// staleWhileRevalidate from here only.
export const CacheLive = Cache.layer({
  namespace: "app",
  defaultTtl: "1 minute",
  staleWhileRevalidate: "10 minutes",
  staleIfError: "6 hours"
}).pipe(Layer.provide(MemoryTier.layer()))

// --- A background refresh uses the caller's services -------------------------------------

export class Prices extends Context.Tag("Prices")<Prices, {
  readonly current: (sku: string) => Effect.Effect<number, "PricesUnavailable">
}>() {}

export const priceOptions: Cache.EntryOptions = { ttl: "1 minute", refreshAfter: "45 seconds" }

// The compute needs `Prices`; the caller provides it, and a refresh started by this
// call runs with the same services, in a fiber of the cache layer's scope.
export const price = (sku: string) =>
  Effect.flatMap(
    Prices,
    (prices) => Cache.getOrCompute(`price:${sku}`, Schema.Number, prices.current(sku), priceOptions)
  )
