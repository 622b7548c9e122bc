import { CacheTier } from "@layercake/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Schema from "effect/Schema"

/**
 * A minimal unbounded local tier for core's own tests (the real one is
 * `@layercake/memory`, which depends on core). Keeps decoded values.
 */
export const make = (name = "local", maxTtl?: number) => {
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
  const write = (key: string, entry: CacheTier.Entry<any>, at: number) => {
    entries.set(key, CacheTier.capLifetime(entry, at, maxTtl))
  }
  const tier = CacheTier.make({
    name,
    kind: "local",
    maxTtl,
    get: (key, schema) => Effect.map(now, (at) => read(key, schema, at)),
    getMany: (keys, schema) => Effect.map(now, (at) => keys.map((key) => read(key, schema, at))),
    set: (key, entry) => Effect.map(now, (at) => write(key, entry, at)),
    setMany: (list) => Effect.map(now, (at) => list.forEach(([key, entry]) => write(key, entry, at))),
    delete: (keys) => Effect.sync(() => keys.forEach((key) => entries.delete(key))),
    invalidateTags: (tags, _at) =>
      Effect.sync(() => {
        for (const [key, entry] of entries) if (entry.tags.some((tag) => tags.includes(tag))) entries.delete(key)
      }),
    clear: (prefix) =>
      Effect.sync(() => {
        for (const key of entries.keys()) if (key.startsWith(prefix)) entries.delete(key)
      }),
    peekFresh: (key, schema, at, refreshAfter) => {
      const entry = entries.get(key)
      if (
        entry === undefined || entry.schema !== schema || entry.negative || at >= entry.freshUntil ||
        at >= entry.createdAt + refreshAfter
      ) return CacheTier.NotFound
      return entry.value
    }
  })
  return { tier, entries }
}

export const layer = (name?: string, maxTtl?: number) => Layer.sync(CacheTier.CacheTier, () => make(name, maxTtl).tier)
