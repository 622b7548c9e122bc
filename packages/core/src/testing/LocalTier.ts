/**
 * A plain, unbounded local tier whose entries a test can look at: what was
 * written, promoted (with which lifetime), or dropped. Keeps decoded values and
 * offers the synchronous access of in-process tiers like `@layercake/memory`
 * does; use `MemoryTier` for anything but tests.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Schema from "effect/Schema"
import * as CacheTier from "../CacheTier.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface LocalTier {
  readonly tier: CacheTier.CacheTier
  /** The kept entries by full key (`<namespace>:<key>`). */
  readonly entries: Map<string, CacheTier.Entry<any>>
  readonly layer: Layer.Layer<CacheTier.CacheTier>
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: { readonly name?: string | undefined; readonly maxTtl?: number | undefined } = {}
): LocalTier => {
  const entries = new Map<string, CacheTier.Entry<any>>()
  const read = <A>(
    key: string,
    schema: Schema.Schema<A, any>,
    errorSchema: Schema.Schema<any, any> | undefined,
    at: number
  ): CacheTier.ReadResult<A> => {
    const entry = entries.get(key)
    if (entry === undefined) return undefined
    if (at >= entry.staleUntil) {
      entries.delete(key)
      return undefined
    }
    return CacheTier.readAs(key, entry, schema, errorSchema)
  }
  const write = (key: string, entry: CacheTier.Entry<any>, at: number): undefined => {
    const capped = CacheTier.capLifetime(entry, at, options.maxTtl)
    if (capped.staleUntil <= at) entries.delete(key)
    else entries.set(key, capped)
    return undefined
  }
  const tier = CacheTier.make({
    name: options.name ?? "local",
    kind: "local",
    maxTtl: options.maxTtl,
    get: (key, schema, errorSchema) => Effect.map(Clock.currentTimeMillis, (at) => read(key, schema, errorSchema, at)),
    getMany: (keys, schema, errorSchema) =>
      Effect.map(Clock.currentTimeMillis, (at) => keys.map((key) => read(key, schema, errorSchema, at))),
    set: (key, entry) => Effect.map(Clock.currentTimeMillis, (at) => write(key, entry, at)),
    setMany: (list) =>
      Effect.map(Clock.currentTimeMillis, (at) => list.forEach(([key, entry]) => write(key, entry, at))),
    delete: (keys) => Effect.sync(() => keys.forEach((key) => entries.delete(key))),
    invalidateTags: (tags) =>
      Effect.sync(() => {
        for (const [key, entry] of entries) if (entry.tags.some((tag) => tags.includes(tag))) entries.delete(key)
      }),
    clear: (prefix) =>
      Effect.sync(() => {
        for (const key of entries.keys()) if (key.startsWith(prefix)) entries.delete(key)
      }),
    sync: { get: read, set: write }
  })
  return { tier, entries, layer: Layer.succeed(CacheTier.CacheTier, tier) }
}
