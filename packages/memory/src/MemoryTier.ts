/**
 * A bounded tier in this process's memory (`kind: "local"`), the usual hottest
 * tier of a stack.
 *
 * It keeps each entry's decoded value together with the schema it was written
 * with, not an encoded copy: a read with that same schema returns the kept value
 * without decoding (the `Cache` serves L1 hits through the tier's synchronous
 * `sync.get`); a read with another schema encodes and decodes, and a mismatch, or
 * Schema code that throws, is a `CacheTier.DecodeFailure`.
 *
 * Bounds and lifetime:
 * - `maxEntries` (default 10 000): when full, writing a new key evicts an entry
 *   chosen by the `policy`. Get and set are O(1).
 * - `policy` (default `"tinylfu"`): W-TinyLFU, Caffeine's design. New entries
 *   enter a small LRU window (about 1% of the bound); leaving it, an entry
 *   competes with the main area's eviction candidate and the one used more
 *   often recently (by a 4-bit count-min sketch that ages) stays. A burst of
 *   keys read once does not push the frequently read ones out, and with
 *   tinylfu a write of a new key may not be kept if the store is full of more
 *   popular entries. `"lru"` evicts the least recently used entry. Reads (`get`,
 *   `sync.get`) and overwrites count as use for both. See `docs/memory.md`.
 * - `maxBytes`: bounds the sum of the entries' estimated sizes, evicting by the
 *   same policy (tinylfu then sizes its areas in bytes). `maxEntryBytes`: an
 *   entry estimated bigger than this (or than `maxBytes`) is not kept, and the
 *   key's older entry is deleted.
 * - Time comes from the Effect `Clock` (so `TestClock` drives it). An entry is
 *   gone once `now >= staleUntil`: it is never returned and is deleted when seen.
 *   `maxTtl` caps the lifetime of every copy written (never extends it).
 * - `timeToIdle` (Moka's `time_to_idle`): an entry not read (`get`, `getMany`,
 *   `sync.get`) or written for that long is gone, as if expired: a read after
 *   that is a miss and frees its slot. Each read hit and each write renews the
 *   deadline, which never passes the entry's own `staleUntil`. None by default.
 * - `invalidateTags` deletes the tagged entries at once; `clear(prefix)` deletes
 *   the keys starting with `prefix`. The tier never fails.
 *
 * The size estimate, computed only when `maxBytes` or `maxEntryBytes` is set
 * (the default path never encodes): the length of
 * `JSON.stringify(Schema.encodeSync(entry.schema)(entry.value))` plus the key's
 * length, both in UTF-16 code units times 2 bytes, plus 100 bytes for the
 * tier's bookkeeping. A negative entry (a cached failure) is measured with its
 * error schema, or by `JSON.stringify` of the failure when that does not encode it.
 * It is an estimate of the heap a value takes, not a measure: a decoded value
 * (a `Date`, a class instance) can take more or less than its JSON. An entry
 * whose size cannot be estimated (the schema does not encode it or throws, the
 * JSON throws) is not kept, and a warning is logged.
 *
 * Memory: entries are kept as a struct of arrays (no object per entry, no
 * `Map`): per entry the tier adds about 62 bytes on top of the key and the
 * value with tinylfu (18 of JS heap, 44 of typed arrays), 57 with lru
 * (measured at 100 000 entries in a fresh process, `pnpm bench`; see
 * `docs/memory.md`), plus about 35 bytes per tagged entry and tag.
 *
 * @example
 * ```ts
 * import { Cache } from "@layercake/core"
 * import { MemoryTier } from "@layercake/memory"
 * import * as Layer from "effect/Layer"
 *
 * const CacheLive = Cache.layer({ namespace: "app" }).pipe(
 *   Layer.provide(MemoryTier.layer({ maxEntries: 50_000, maxTtl: "1 minute" }))
 * )
 * ```
 *
 * @since 0.1.0
 */
import { CacheTier } from "@layercake/core"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as internal from "./internal/tier.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Most entries kept at once. A whole number from 1 to 2^30; default 10 000. */
  readonly maxEntries?: number | undefined
  /** Bound on the sum of the entries' estimated sizes in bytes (see the module docs); none by default. */
  readonly maxBytes?: number | undefined
  /** An entry estimated bigger than this many bytes is not kept; no limit by default. */
  readonly maxEntryBytes?: number | undefined
  /** The longest a copy lives in this tier; written entries are capped to it. None by default. */
  readonly maxTtl?: Duration.DurationInput | undefined
  /**
   * An entry not read or written for this long is gone from this tier (a read
   * is then a miss), even before its `staleUntil`; each read hit and each write
   * renews it, and it never extends an entry's life. None by default; costs 8
   * bytes per entry when set.
   */
  readonly timeToIdle?: Duration.DurationInput | undefined
  /** The tier's name in stats and logs; default `"memory"` (a stack renames a clash `memory#2`). */
  readonly name?: string | undefined
  /**
   * What to evict when a bound is reached: `"tinylfu"` (default) keeps the
   * entries used most often recently, `"lru"` the ones used last.
   */
  readonly policy?: "tinylfu" | "lru" | undefined
}

/**
 * Builds a memory tier. Invalid options (a non-positive or non-integer
 * `maxEntries`, a non-positive `maxBytes` or `timeToIdle`, an unknown `policy`, ...) are a defect naming the
 * option, its value and what is accepted (`Validate.InvalidOptionError`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: Options) => Effect.Effect<CacheTier.CacheTier> = internal.make

/**
 * A memory tier as a layer providing `CacheTier.CacheTier`.
 *
 * @example
 * ```ts
 * import { CacheTier } from "@layercake/core"
 * import { MemoryTier } from "@layercake/memory"
 * import { SharedTier } from "@layercake/core/testing"
 *
 * const tiers = CacheTier.stack(MemoryTier.layer({ maxEntries: 10_000 }), SharedTier.layer())
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<CacheTier.CacheTier> =>
  Layer.effect(CacheTier.CacheTier, make(options))

/**
 * A memory tier with its options read from `Config`.
 *
 * @example
 * ```ts
 * import { MemoryTier } from "@layercake/memory"
 * import * as Config from "effect/Config"
 *
 * const l1 = MemoryTier.layerConfig({
 *   maxEntries: Config.integer("CACHE_L1_ENTRIES"),
 *   policy: Config.literal("tinylfu", "lru")("CACHE_L1_POLICY").pipe(Config.withDefault("tinylfu" as const))
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<Options>
): Layer.Layer<CacheTier.CacheTier, ConfigError.ConfigError> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), layer))
