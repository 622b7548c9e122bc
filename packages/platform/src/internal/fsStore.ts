/**
 * A string-only `KeyValueStore` in a directory: one file per key, named by
 * the sha256 hex of the key, written to a temp file in the same directory and
 * renamed over the target (atomic on POSIX file systems).
 *
 * @internal
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as KeyValueStore from "@effect/platform/KeyValueStore"
import * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { createHash } from "node:crypto"

const fileName = (key: string): string => createHash("sha256").update(key, "utf8").digest("hex")

/** @internal */
export const make = (
  directory: string
): Effect.Effect<KeyValueStore.KeyValueStore, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    yield* fs.makeDirectory(directory, { recursive: true }).pipe(Effect.orDie)
    const pathOf = (key: string) => path.join(directory, fileName(key))
    let counter = 0
    return KeyValueStore.makeStringOnly({
      get: (key) =>
        fs.readFileString(pathOf(key)).pipe(
          Effect.map(Option.some),
          Effect.catchIf((e) => e._tag === "SystemError" && e.reason === "NotFound", () => Effect.succeedNone)
        ),
      set: (key, value) => {
        const target = pathOf(key)
        const temp = `${target}.${process.pid}.${counter++}.tmp`
        return fs.writeFileString(temp, value).pipe(
          Effect.zipRight(fs.rename(temp, target)),
          Effect.tapError(() => fs.remove(temp).pipe(Effect.ignore))
        )
      },
      remove: (key) =>
        fs.remove(pathOf(key)).pipe(
          Effect.catchIf((e) => e._tag === "SystemError" && e.reason === "NotFound", () => Effect.void)
        ),
      clear: fs.readDirectory(directory).pipe(
        Effect.flatMap((names) =>
          Effect.forEach(names, (name) => fs.remove(path.join(directory, name)).pipe(Effect.ignore), {
            discard: true
          })
        )
      ),
      size: Effect.map(fs.readDirectory(directory), (names) => names.filter((n) => !n.endsWith(".tmp")).length)
    })
  })
