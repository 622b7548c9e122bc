import { CacheTier } from "@layercake/core"
import * as Effect from "effect/Effect"
import type * as Schema from "effect/Schema"
import { type Input, resolve, type Resolved } from "./options.js"
import { estimateEntryBytes, Unmeasurable } from "./size.js"
import { Store } from "./store.js"

/** @internal */
export const make = (input: Input = {}): Effect.Effect<CacheTier.CacheTier> =>
  Effect.suspend(() => {
    // `resolve` throws an InvalidOptionError naming the option: a defect of the build
    const options = resolve(input)
    return Effect.sync(() => fromStore(new Store(options), options))
  })

/** Wraps a store as a tier; exported for tests that inspect the store. @internal */
export const fromStore = (store: Store, options: Resolved): CacheTier.CacheTier => {
  const { maxTtl, name } = options
  const entryByteLimit = Math.min(options.maxEntryBytes ?? Infinity, options.maxBytes ?? Infinity)
  const checkedBytes = entryByteLimit !== Infinity

  const read = <A>(
    key: string,
    schema: Schema.Schema<A, any>,
    errorSchema: Schema.Schema<any, any> | undefined,
    now: number
  ): CacheTier.ReadResult<A> => {
    const slot = store.lookup(key, now)
    if (slot === undefined) return undefined
    const entry = store.entryAt(slot)
    // the L1 hit: kept with the reader's schema, nothing to convert
    return entry.schema === schema && !entry.negative
      ? entry as CacheTier.Entry<A>
      : CacheTier.readAs(key, entry, schema, errorSchema)
  }

  /** Keeps the entry or, when it cannot be kept, deletes the key's older one; returns a warning to log. */
  const write = (key: string, entry: CacheTier.Entry<any>, now: number): string | undefined => {
    const capped = CacheTier.capLifetime(entry, now, maxTtl)
    if (!(capped.staleUntil > now)) {
      store.delete(key)
      return undefined
    }
    const bytes = checkedBytes ? estimateEntryBytes(key, capped) : 0
    if (bytes instanceof Unmeasurable || bytes > entryByteLimit) {
      store.delete(key)
      return bytes instanceof Unmeasurable
        ? `layercake: memory tier "${name}" did not keep "${key}": its size cannot be estimated: ${bytes.reason}`
        : undefined
    }
    store.set(key, capped, now, bytes)
    return undefined
  }

  /** `set` at `now`: `undefined`, or the log of a value that could not be kept. */
  const setAt = (key: string, entry: CacheTier.Entry<any>, now: number): Effect.Effect<void> | undefined => {
    const warning = write(key, entry, now)
    return warning === undefined ? undefined : Effect.logWarning(warning)
  }

  return CacheTier.make({
    name,
    kind: "local",
    maxTtl,
    get: (key, schema, errorSchema) =>
      Effect.clockWith((clock) => Effect.succeed(read(key, schema, errorSchema, clock.unsafeCurrentTimeMillis()))),
    getMany: (keys, schema, errorSchema) =>
      Effect.clockWith((clock) => {
        const now = clock.unsafeCurrentTimeMillis()
        return Effect.succeed(keys.map((key) => read(key, schema, errorSchema, now)))
      }),
    set: (key, entry) => Effect.clockWith((clock) => setAt(key, entry, clock.unsafeCurrentTimeMillis()) ?? Effect.void),
    setMany: (entries) =>
      Effect.clockWith((clock) => {
        const now = clock.unsafeCurrentTimeMillis()
        const warnings: Array<string> = []
        for (const [key, entry] of entries) {
          const warning = write(key, entry, now)
          if (warning !== undefined) warnings.push(warning)
        }
        return Effect.forEach(warnings, (warning) => Effect.logWarning(warning), { discard: true })
      }),
    delete: (keys) =>
      Effect.sync(() => {
        for (const key of keys) store.delete(key)
      }),
    invalidateTags: (tags, _at) => Effect.sync(() => store.invalidateTags(tags)),
    clear: (prefix) => Effect.sync(() => store.clear(prefix)),
    deleteMatching: (prefix, pattern) =>
      Effect.sync(() => store.deleteMatching(prefix, CacheTier.globMatcher(pattern))),
    sync: { get: read, set: setAt }
  })
}
