/**
 * A persistent `CacheTier` in a directory of the local file system (Node), for
 * an embedded cache whose values survive a restart.
 *
 * - One file per stored key, named by the sha256 hex of the key, holding the
 *   same JSON envelope as `KeyValueStoreTier` (and its `~tag:` / `~clear:`
 *   records). Writes go to a temp file (`<name>.<pid>-<random>.<n>.tmp`) and
 *   are renamed over the target, so a reader sees the old file or the new one.
 *   A partial, foreign or corrupt file reads as a `DecodeFailure` (a miss).
 * - Disk bound: the tier counts the bytes of its files (their sizes, not the
 *   blocks they take) in memory. A write that takes the count over `maxBytes`
 *   (default 256 MiB) waits for a prune, which removes expired entries, then
 *   the oldest entries by `createdAt`, until the directory holds at most 90 %
 *   of `maxBytes`.
 * - A background sweep in the layer's scope runs when the layer starts (it
 *   counts the files already there) and every `pruneInterval` (default 1
 *   minute): it removes expired entries' files (Effect `Clock`), temp files
 *   older than a minute (a crash between write and rename), and prunes to the
 *   bound. Files whose names the tier does not write are left alone and not
 *   counted; `~tag:` / `~clear:` records are counted and never removed.
 * - `kind` is `"local"` by default: the directory is this tier's own, and
 *   once the first sweep has listed it, a read of a file it does not know is
 *   a miss without a disk read (files added behind its back are seen after
 *   the next sweep). `"shared"` when several processes (or several `Cache`
 *   instances with a bus between them) use one directory.
 *
 * See docs/platform-tiers.md.
 *
 * @example
 * ```ts
 * import { Cache, CacheTier } from "@layercake/core"
 * import { MemoryTier } from "@layercake/memory"
 * import { FileSystemTier } from "@layercake/platform"
 * import * as Layer from "effect/Layer"
 *
 * const CacheLive = Cache.layer({ namespace: "app" }).pipe(
 *   Layer.provide(CacheTier.stack(
 *     MemoryTier.layer({ maxEntries: 10_000 }),
 *     FileSystemTier.layer({ directory: ".cache/app", maxBytes: 64 * 1024 * 1024 })
 *   ))
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import type { CacheTier } from "@layercake/core"
import type * as Duration from "effect/Duration"
import * as Layer from "effect/Layer"
import * as internal from "./internal/fsTier.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The directory holding the files; created when missing. */
  readonly directory: string
  /** The tier's name in stats and logs. Default `"filesystem"`. */
  readonly name?: string | undefined
  /** The longest an entry lives on disk. Default: its own lifetime. */
  readonly maxTtl?: Duration.DurationInput | undefined
  /**
   * Bound on the bytes of the tier's files in `directory` (a number above
   * zero; `Infinity` for none). Default 256 MiB.
   */
  readonly maxBytes?: number | undefined
  /** How often the background sweep runs. Default 1 minute. */
  readonly pruneInterval?: Duration.DurationInput | undefined
  /**
   * `"local"` (default): only this `Cache` uses the directory. `"shared"`:
   * several processes or `Cache` instances do (a peer's invalidation then
   * leaves the files alone; they hold the peer's newer write).
   */
  readonly kind?: "local" | "shared" | undefined
}

/**
 * A file-system tier as a layer. Invalid options are a defect naming the
 * option, its value and what is accepted (`Validate.InvalidOptionError`);
 * a directory that cannot be created is a defect too.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<CacheTier.CacheTier> =>
  internal.layer(options).pipe(Layer.provide(Layer.merge(NodeFileSystem.layer, NodePath.layer)))
