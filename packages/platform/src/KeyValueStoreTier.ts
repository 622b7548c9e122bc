/**
 * A `CacheTier` over any `@effect/platform` `KeyValueStore` (in memory, a
 * file-system store, browser storage, ...).
 *
 * - Each entry is a JSON envelope string (`v: 1`, its key, times, tags, the
 *   negative flag and the value encoded with the entry's Schema). Text that
 *   does not parse or decode with the reader's schema is a `DecodeFailure`.
 * - An entry past `staleUntil` (Effect `Clock`) reads as absent and is removed.
 * - A KeyValueStore cannot list keys: `clear(prefix)` and `invalidateTags`
 *   record invalidation times as keys (`~clear:<prefix>`, `~tag:<tag>`), and
 *   a read treats an entry created at or before such a time as absent (so an
 *   entry written in the same millisecond as a `clear` of its prefix is a miss).
 * - Keys and tags must be well-formed Unicode.
 *
 * Space reclaimed, and when (nothing runs in the background):
 * - an entry is removed by `delete`, by an overwrite, and when a read finds it
 *   past `staleUntil` or hidden by a `~clear:` / `~tag:` record;
 * - an expired or hidden entry that is never read again stays in the store,
 *   and so does its space (a store with its own expiry or bound, or
 *   `FileSystemTier`'s sweep, reclaims it);
 * - `~clear:` and `~tag:` records are never removed: one per distinct prefix
 *   cleared and tag invalidated, each a few bytes.
 *
 * Costs: a read is one store `get` for the entry plus one per prefix length of
 * the key (`key.length + 1`) and one per tag of the entry, sequential; fine
 * for in-memory stores and short keys. `getMany` / `setMany` go one key at a
 * time (the store's calls may not overlap safely).
 *
 * See docs/platform-tiers.md.
 *
 * @since 0.1.0
 */
import type * as KeyValueStore from "@effect/platform/KeyValueStore"
import { CacheTier } from "@layercake/core"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as internal from "./internal/kvTier.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The tier's name in stats and logs. Default `"keyvaluestore"`. */
  readonly name?: string | undefined
  /** The longest an entry lives in the store. Default: its own lifetime. */
  readonly maxTtl?: Duration.DurationInput | undefined
  /** Default `"shared"`; `"local"` for a store only this process sees. */
  readonly kind?: "local" | "shared" | undefined
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make: (
  options?: Options
) => Effect.Effect<CacheTier.CacheTier, never, KeyValueStore.KeyValueStore> = internal.make

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<CacheTier.CacheTier, never, KeyValueStore.KeyValueStore> =>
  Layer.effect(CacheTier.CacheTier, internal.make(options))
