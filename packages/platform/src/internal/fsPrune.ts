/**
 * The FileSystemTier's sweep, run by a fiber of the layer's scope every
 * `pruneInterval` (first when the layer starts, which counts the files already
 * there) and at once by a write that takes the directory over `maxBytes`:
 *
 * 1. lists the directory; reads the head of each tier file it does not know
 *    (the envelope's times); forgets files that are gone;
 * 2. removes temp files older than a minute (a crash between write and rename);
 * 3. removes entries whose `staleUntil` has passed (Effect `Clock`);
 * 4. over `maxBytes`: removes unreadable files, then entries by `createdAt`,
 *    oldest first, until the directory holds at most the low-water mark.
 *
 * Files whose names the tier does not write are neither counted nor removed;
 * `~tag:` / `~clear:` records are counted and never removed.
 *
 * @internal
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as FiberSet from "effect/FiberSet"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import {
  describe,
  describeHead,
  type DiskIndex,
  type FileInfo,
  HEAD_BYTES,
  isEntryName,
  isTempName
} from "./fsIndex.js"
import { type Resolved, TEMP_FILE_MAX_AGE } from "./fsOptions.js"
import { isNotFound } from "./fsStore.js"

/** What one sweep did, for the debug log and tests. @internal */
export interface SweepReport {
  readonly files: number
  readonly bytes: number
  readonly expired: number
  readonly tempFiles: number
  readonly evicted: number
}

/** @internal */
export interface Pruner {
  /** One sweep; waits for the running one if there is one. */
  readonly sweep: Effect.Effect<void>
  /** Sweeps now, then every `pruneInterval`, until the scope closes. */
  readonly run: Effect.Effect<never>
}

const CONCURRENCY = 16

/** @internal */
export const make = (
  options: Resolved,
  index: DiskIndex
): Effect.Effect<Pruner, never, FileSystem.FileSystem | Path.Path | Scope.Scope> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const fibers = yield* FiberSet.make<void>()
    const { directory, lowWaterBytes, maxBytes } = options
    const pathOf = (name: string) => path.join(directory, name)

    /** Removes a file the index knows, unless a write replaced it since it was chosen. */
    const remove = (name: string, info: FileInfo) =>
      Effect.suspend(() =>
        index.files.get(name) !== info ? Effect.succeed(false) : fs.remove(pathOf(name)).pipe(
          Effect.catchIf(isNotFound, () => Effect.void),
          Effect.zipRight(Effect.sync(() => {
            index.drop(name, info)
            return true
          })),
          // still there (permissions, ...): still counted; the sweep goes on with the other files
          Effect.catchAll(() => Effect.succeed(false))
        )
      )

    const readInfo = (name: string) =>
      Effect.scoped(Effect.gen(function*() {
        const file = yield* fs.open(pathOf(name), { flag: "r" })
        const bytes = Number((yield* file.stat).size)
        const head = yield* file.readAlloc(FileSystem.Size(HEAD_BYTES))
        const text = Option.match(head, { onNone: () => "", onSome: (b) => new TextDecoder().decode(b) })
        return describeHead(text, bytes) ?? describe(yield* fs.readFileString(pathOf(name)), bytes)
      }))

    /** Step 1: the index matches the directory; returns the temp files' names. */
    const survey = Effect.gen(function*() {
      index.touched.clear()
      const names = yield* fs.readDirectory(directory)
      const listed = new Set(names)
      for (const name of index.files.keys()) {
        if (!listed.has(name) && !index.touched.has(name)) index.drop(name)
      }
      yield* Effect.forEach(
        names.filter((name) => isEntryName(name) && !index.files.has(name)),
        (name) =>
          readInfo(name).pipe(
            // a write or removal meanwhile knows better than this read
            Effect.tap((info) => Effect.sync(() => !index.files.has(name) && index.put(name, info))),
            Effect.catchIf(isNotFound, () => Effect.void)
          ),
        { concurrency: CONCURRENCY, discard: true }
      )
      index.complete = true
      return names.filter(isTempName)
    })

    const removeOldTempFiles = (names: ReadonlyArray<string>, now: number) =>
      Effect.map(
        Effect.forEach(names, (name) =>
          fs.stat(pathOf(name)).pipe(
            Effect.flatMap((stat) => {
              const mtime = Option.getOrElse(Option.map(stat.mtime, (d) => d.getTime()), () => now)
              return now - mtime > TEMP_FILE_MAX_AGE ? Effect.as(fs.remove(pathOf(name)), true) : Effect.succeed(false)
            }),
            Effect.catchAll(() => Effect.succeed(false))
          ), { concurrency: CONCURRENCY }),
        (removed) => removed.filter(Boolean).length
      )

    const removeAll = (files: ReadonlyArray<readonly [string, FileInfo]>) =>
      Effect.map(
        Effect.forEach(files, ([name, info]) => remove(name, info), { concurrency: CONCURRENCY }),
        (removed) => removed.filter(Boolean).length
      )

    /** Step 4: oldest first, in batches, until under the low-water mark (writes go on meanwhile). */
    const evict = Effect.gen(function*() {
      if (index.bytes <= maxBytes) return 0
      const candidates = [...index.files].filter(([, info]) => info.kind !== "record")
        .sort(([, a], [, b]) => a.createdAt - b.createdAt)
      let evicted = 0
      let next = 0
      while (index.bytes > lowWaterBytes && next < candidates.length) {
        let over = index.bytes - lowWaterBytes
        const batch: Array<readonly [string, FileInfo]> = []
        while (over > 0 && next < candidates.length && batch.length < CONCURRENCY) {
          over -= candidates[next][1].bytes
          batch.push(candidates[next++])
        }
        evicted += yield* removeAll(batch)
      }
      if (index.bytes > lowWaterBytes) {
        yield* Effect.logWarning(
          `layercake: FileSystemTier "${options.name}" still holds ${index.bytes} bytes after a prune ` +
            `(maxBytes ${maxBytes}): ~tag: / ~clear: records, which are never removed, files it could not ` +
            `remove, or writes during the prune`
        )
      }
      return evicted
    })

    const sweepOnce = Effect.gen(function*() {
      const temps = yield* survey
      const now = yield* Clock.currentTimeMillis
      const tempFiles = yield* removeOldTempFiles(temps, now)
      const expired = yield* removeAll(
        [...index.files].filter(([, info]) => info.kind === "entry" && info.staleUntil <= now)
      )
      const evicted = yield* evict
      const report: SweepReport = { files: index.files.size, bytes: index.bytes, expired, tempFiles, evicted }
      yield* Effect.logDebug(`layercake: FileSystemTier "${options.name}" swept ${directory}`).pipe(
        Effect.annotateLogs({ ...report })
      )
    }).pipe(
      Effect.catchAllCause((cause) =>
        Effect.logWarning(`layercake: FileSystemTier "${options.name}" could not sweep ${directory}`, cause)
      )
    )

    let running: Fiber.RuntimeFiber<void> | undefined
    const sweep: Effect.Effect<void> = Effect.suspend(() => {
      if (running !== undefined && running.unsafePoll() === null) return Fiber.await(running)
      // forked into the layer's scope: a writer that stops waiting does not stop the sweep
      return FiberSet.run(fibers, sweepOnce).pipe(
        Effect.tap((fiber) => {
          running = fiber
        }),
        Effect.flatMap(Fiber.await)
      )
    })

    const run = Effect.forever(Effect.zipRight(sweep, Effect.sleep(options.pruneInterval)))
    return { sweep, run }
  })
