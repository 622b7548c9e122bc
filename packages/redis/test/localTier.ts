import { CacheTier } from "@layercake/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Schema from "effect/Schema"

/**
 * A minimal unbounded local tier that keeps decoded values (the real one is
 * `@layercake/memory`); `entries` lets tests look at what was promoted.
 */
export const localTier = (name = "local") => {
  const entries = new Map<string, CacheTier.Entry<any>>()
  const now = Effect.clockWith((clock) => Effect.succeed(clock.unsafeCurrentTimeMillis()))
  const read = <A>(key: string, schema: Schema.Schema<A, any>, at: number): CacheTier.ReadResult<A> => {
    const entry = entries.get(key)
    if (entry === undefined) return undefined
    if (at >= entry.staleUntil) {
      entries.delete(key)
      return undefined
    }
    return CacheTier.readAs(key, entry, schema)
  }
  const tier = CacheTier.make({
    name,
    kind: "local",
    maxTtl: undefined,
    get: (key, schema) => Effect.map(now, (at) => read(key, schema, at)),
    getMany: (keys, schema) => Effect.map(now, (at) => keys.map((key) => read(key, schema, at))),
    set: (key, entry) => Effect.sync(() => void entries.set(key, entry)),
    setMany: (list) => Effect.sync(() => list.forEach(([key, entry]) => entries.set(key, entry))),
    delete: (keys) => Effect.sync(() => keys.forEach((key) => entries.delete(key))),
    invalidateTags: (tags) =>
      Effect.sync(() => {
        for (const [key, entry] of entries) if (entry.tags.some((tag) => tags.includes(tag))) entries.delete(key)
      }),
    clear: (prefix) =>
      Effect.sync(() => {
        for (const key of entries.keys()) if (key.startsWith(prefix)) entries.delete(key)
      })
  })
  return { entries, layer: Layer.succeed(CacheTier.CacheTier, tier) }
}
