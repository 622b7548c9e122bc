/**
 * A string-only `KeyValueStore` in a directory: one file per key, named by
 * the sha256 hex of the key, written to a temp file in the same directory and
 * renamed over the target (atomic on POSIX file systems). Every write and
 * removal updates the `DiskIndex`; a write that takes it over the bound waits
 * for `makeRoom` (a prune).
 *
 * @internal
 */
import type * as PlatformError from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as KeyValueStore from "@effect/platform/KeyValueStore"
import * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { createHash, randomBytes } from "node:crypto"
import { describe, type DiskIndex, isEntryName, isTempName } from "./fsIndex.js"

/** @internal */
export const fileName = (key: string): string => createHash("sha256").update(key, "utf8").digest("hex")

/** @internal */
export const isNotFound = (error: PlatformError.PlatformError): boolean =>
  error._tag === "SystemError" && error.reason === "NotFound"

/** Creates `directory` (and its parents) when missing; a failure is a defect of the build. @internal */
export const makeDirectory = (directory: string): Effect.Effect<void, never, FileSystem.FileSystem> =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.makeDirectory(directory, { recursive: true })).pipe(Effect.orDie)

/**
 * The store over an existing `directory`; `makeRoom` runs after a write that
 * takes `index.bytes` over `maxBytes`. `onlyWriter` (kind `"local"`): once the
 * index is complete, a file it does not know is absent without a read.
 * @internal
 */
export const make = (
  directory: string,
  index: DiskIndex,
  maxBytes: number,
  makeRoom: Effect.Effect<void>,
  onlyWriter: boolean
): Effect.Effect<KeyValueStore.KeyValueStore, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    // pid alone is not unique across containers sharing a volume
    const writer = `${process.pid}-${randomBytes(4).toString("hex")}`
    let counter = 0

    return KeyValueStore.makeStringOnly({
      get: (key) =>
        Effect.suspend(() => {
          const name = fileName(key)
          // most reads are of `~clear:` records that were never written: no need to ask the disk
          if (onlyWriter && index.complete && !index.files.has(name)) return Effect.succeedNone
          return fs.readFileString(path.join(directory, name)).pipe(
            Effect.map(Option.some),
            Effect.catchIf(isNotFound, () => Effect.succeedNone)
          )
        }),
      set: (key, value) =>
        Effect.suspend(() => {
          const name = fileName(key)
          const target = path.join(directory, name)
          const temp = `${target}.${writer}.${counter++}.tmp`
          const info = describe(value, Buffer.byteLength(value, "utf8"))
          return fs.writeFileString(temp, value).pipe(
            Effect.zipRight(fs.rename(temp, target)),
            Effect.tapError(() => fs.remove(temp).pipe(Effect.ignore)),
            Effect.zipRight(Effect.suspend(() => {
              index.put(name, info)
              return index.bytes > maxBytes ? makeRoom : Effect.void
            }))
          )
        }),
      remove: (key) =>
        Effect.suspend(() => {
          const name = fileName(key)
          return fs.remove(path.join(directory, name)).pipe(
            Effect.catchIf(isNotFound, () => Effect.void),
            Effect.zipRight(Effect.sync(() => index.drop(name)))
          )
        }),
      // only the tier's own files: anything else in the directory is left alone
      clear: fs.readDirectory(directory).pipe(
        Effect.flatMap((names) =>
          Effect.forEach(
            names.filter((name) => isEntryName(name) || isTempName(name)),
            (name) => fs.remove(path.join(directory, name)).pipe(Effect.ignore),
            { discard: true, concurrency: 16 }
          )
        ),
        Effect.zipRight(Effect.sync(() => index.clear()))
      ),
      size: Effect.map(fs.readDirectory(directory), (names) => names.filter(isEntryName).length)
    })
  })
