/**
 * The FileSystemTier: the KeyValueStore tier over the file store, with the
 * disk index and its pruner, built in the layer's scope.
 *
 * @internal
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import { CacheTier } from "@layercake/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { DiskIndex } from "./fsIndex.js"
import { type Input, resolve } from "./fsOptions.js"
import * as fsPrune from "./fsPrune.js"
import * as fsStore from "./fsStore.js"
import * as kvTier from "./kvTier.js"

/** How many files a `getMany` / `setMany` reads or writes at once. */
const FILE_CONCURRENCY = 16

/** @internal */
export const layer = (input: Input): Layer.Layer<CacheTier.CacheTier, never, FileSystem.FileSystem | Path.Path> =>
  Layer.scoped(
    CacheTier.CacheTier,
    Effect.gen(function*() {
      // `resolve` throws an InvalidOptionError naming the option: a defect of the build
      const options = yield* Effect.sync(() => resolve(input))
      const index = new DiskIndex()
      yield* fsStore.makeDirectory(options.directory)
      const pruner = yield* fsPrune.make(options, index)
      const store = yield* fsStore.make(
        options.directory,
        index,
        options.maxBytes,
        pruner.sweep,
        options.kind === "local"
      )
      yield* Effect.forkScoped(pruner.run)
      return yield* kvTier.make({
        name: options.name,
        maxTtl: options.maxTtl,
        kind: options.kind,
        concurrency: FILE_CONCURRENCY
      }).pipe(Effect.provideService(kvTier.KeyValueStoreTag, store))
    })
  )
