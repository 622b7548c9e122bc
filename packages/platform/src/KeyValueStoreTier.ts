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
 *   a read treats an entry created at or before such a time as absent. These
 *   records are never removed.
 * - Keys and tags must be well-formed Unicode.
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
