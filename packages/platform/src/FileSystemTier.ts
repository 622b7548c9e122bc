/**
 * A `CacheTier` in a directory of the local file system (Node): one file per
 * key (named by the sha256 hex of the key), written atomically (temp file,
 * then rename), holding the same JSON envelope as `KeyValueStoreTier`. A
 * partial, foreign or corrupt file reads as a `DecodeFailure`; values survive
 * a restart, expired ones read as absent and their file is removed. `kind` is
 * `"local"`. No `maxBytes` bound yet.
 *
 * @since 0.1.0
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { CacheTier } from "@layercake/core"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as fsStore from "./internal/fsStore.js"
import * as kvTier from "./internal/kvTier.js"

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
}

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<CacheTier.CacheTier> =>
  Layer.effect(
    CacheTier.CacheTier,
    Effect.flatMap(fsStore.make(options.directory), (store) =>
      kvTier.make({ name: options.name ?? "filesystem", maxTtl: options.maxTtl, kind: "local" }).pipe(
        Effect.provideService(kvTier.KeyValueStoreTag, store)
      ))
  ).pipe(Layer.provide(Layer.merge(NodeFileSystem.layer, NodePath.layer)))
