import { afterAll, assert, describe, it } from "@effect/vitest"
import { CacheTier, Validate } from "@layercake/core"
import * as Conformance from "@layercake/core/testing/conformance"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import * as TestServices from "effect/TestServices"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as FileSystemTier from "../src/FileSystemTier.js"

const tempDirs: Array<string> = []
const tempDir = () => {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "layercake-fs-"))
  tempDirs.push(directory)
  return directory
}
afterAll(() => {
  for (const directory of tempDirs) fs.rmSync(directory, { recursive: true, force: true })
})

Conformance.run("FileSystemTier", () => FileSystemTier.layer({ directory: tempDir() }), { kind: "local" })
Conformance.run(
  "FileSystemTier (maxBytes 16 KiB, pruneInterval 1 s)",
  () => FileSystemTier.layer({ directory: tempDir(), maxBytes: 16 * 1024, pruneInterval: "1 second" }),
  { kind: "local" }
)
Conformance.run(
  "FileSystemTier (kind shared)",
  () => FileSystemTier.layer({ directory: tempDir(), kind: "shared" }),
  { kind: "shared" }
)

const entry = (now: number, value = "v", lifetime = 2000): CacheTier.Entry<string> => ({
  value,
  schema: Schema.String,
  createdAt: now,
  freshUntil: now + lifetime / 2,
  staleUntil: now + lifetime,
  tags: [],
  negative: false
})
const fileOf = (directory: string, key: string) =>
  path.join(directory, createHash("sha256").update(`~entry:${key}`).digest("hex"))
type TierOptions = Omit<FileSystemTier.Options, "directory">
const tierIn = (directory: string, options: TierOptions = {}): Effect.Effect<CacheTier.CacheTier> =>
  Effect.provide(CacheTier.CacheTier, FileSystemTier.layer({ directory, ...options }))
/** The tier's layer for the rest of the test's scope, so its sweep fiber keeps running. */
const scopedTier = (
  directory: string,
  options: TierOptions = {}
): Effect.Effect<CacheTier.CacheTier, never, Scope.Scope> =>
  Effect.map(Layer.build(FileSystemTier.layer({ directory, ...options })), Context.get(CacheTier.CacheTier))

/** The real bytes in the directory: every file's size (a file the sweep removes meanwhile counts 0). */
const directoryBytes = (directory: string) =>
  fs.readdirSync(directory).reduce(
    (sum, name) => sum + (fs.statSync(path.join(directory, name), { throwIfNoEntry: false })?.size ?? 0),
    0
  )

/** Waits (real time, for the sweep fiber's file IO; the Clock is not moved) until `check` holds. */
const eventually = (what: string, check: () => boolean): Effect.Effect<void> =>
  TestServices.provideLive(Effect.gen(function*() {
    for (let i = 0; i < 500; i++) {
      if (check()) return
      yield* Effect.sleep("10 millis")
    }
    assert.fail(`not within 5 s: ${what}`)
  }))

describe("FileSystemTier", () => {
  it.effect("a value survives a restart; an expired one does not", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      yield* Effect.flatMap(tierIn(directory), (tier) => tier.set("k", entry(0)))
      const read = yield* Effect.flatMap(tierIn(directory), (tier) => tier.get("k", Schema.String))
      assert.strictEqual((read as CacheTier.Entry<string>).value, "v")
      yield* TestClock.adjust("2 seconds")
      assert.isUndefined(yield* Effect.flatMap(tierIn(directory), (tier) => tier.get("k", Schema.String)))
    }))

  it.effect("a torn file is a miss (DecodeFailure)", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const tier = yield* tierIn(directory)
      yield* tier.set("k", entry(0))
      const file = fileOf(directory, "k")
      const text = fs.readFileSync(file, "utf8")
      fs.writeFileSync(file, text.slice(0, text.length / 2))
      assert.instanceOf(yield* tier.get("k", Schema.String), CacheTier.DecodeFailure)
    }))

  it.scoped("a foreign file under a key's name is a miss (DecodeFailure); a rewrite replaces it", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      fs.writeFileSync(fileOf(directory, "k"), "not an envelope \u0000\u00ff")
      fs.writeFileSync(fileOf(directory, "k2"), JSON.stringify({ v: 2, key: "k2" }))
      const tier = yield* scopedTier(directory)
      assert.instanceOf(yield* tier.get("k", Schema.String), CacheTier.DecodeFailure)
      assert.instanceOf(yield* tier.get("k2", Schema.String), CacheTier.DecodeFailure)
      yield* tier.set("k", entry(0))
      assert.strictEqual(((yield* tier.get("k", Schema.String)) as CacheTier.Entry<string>).value, "v")
    }))

  it.scoped("kind local: a file put in the folder behind the tier's back is seen after the next sweep", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const tier = yield* scopedTier(directory, { pruneInterval: "1 minute" })
      yield* tier.set("k", entry(0, "v", 3_600_000))
      const text = fs.readFileSync(fileOf(directory, "k"), "utf8")
      fs.writeFileSync(fileOf(directory, "copied"), text.replace("\"key\":\"k\"", "\"key\":\"copied\""))
      yield* TestClock.adjust("1 minute")
      yield* eventually("the copied file is read", () => fs.existsSync(fileOf(directory, "copied")))
      for (let i = 0; i < 500; i++) {
        const read = yield* tier.get("copied", Schema.String)
        if (read !== undefined) {
          assert.strictEqual((read as CacheTier.Entry<string>).value, "v")
          return
        }
        yield* TestServices.provideLive(Effect.sleep("10 millis"))
      }
      assert.fail("the copied file was never read")
    }))

  it.scoped("the sweep removes expired entries' files, keeps live ones and records", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const tier = yield* scopedTier(directory, { pruneInterval: "1 minute" })
      yield* tier.set("short", entry(0, "v", 2_000))
      yield* tier.set("long", entry(0, "v", 3_600_000))
      yield* tier.invalidateTags(["t"], 0)
      yield* tier.clear("ns:")
      assert.strictEqual(fs.readdirSync(directory).length, 4)
      yield* TestClock.adjust("1 minute")
      yield* eventually("the expired file is removed", () => !fs.existsSync(fileOf(directory, "short")))
      assert.isTrue(fs.existsSync(fileOf(directory, "long")))
      assert.strictEqual(fs.readdirSync(directory).length, 3, "the live entry and the two records stay")
    }))

  it.scoped("the sweep removes temp files older than a minute, and leaves foreign files alone", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      yield* TestClock.setTime(10 * 60_000)
      const hex = "ab".repeat(32)
      const old = path.join(directory, `${hex}.12345-deadbeef.0.tmp`)
      const fresh = path.join(directory, `${hex}.12345-deadbeef.1.tmp`)
      const foreign = path.join(directory, "notes.txt")
      const foreignTmp = path.join(directory, "editor-swap.tmp")
      for (const file of [old, fresh, foreign, foreignTmp]) fs.writeFileSync(file, "{\"v\":1,\"key\":")
      // file times against the Effect Clock: 10 min now; the crash's leftover was written at 8 min
      fs.utimesSync(old, 8 * 60, 8 * 60)
      fs.utimesSync(fresh, 10 * 60 + 30, 10 * 60 + 30)
      fs.utimesSync(foreignTmp, 0, 0)
      yield* scopedTier(directory, { pruneInterval: "1 minute" })
      yield* eventually("the old temp file is removed", () => !fs.existsSync(old))
      yield* TestClock.adjust("1 minute")
      yield* TestClock.adjust("1 minute")
      // the fresh one is 1.5 minutes old at the last sweep
      yield* eventually("the other temp file is removed once it is old", () => !fs.existsSync(fresh))
      assert.isTrue(fs.existsSync(foreign) && fs.existsSync(foreignTmp), "foreign files stay")
    }))

  it.scopedLive("the disk bound holds under 10k writes, oldest entries removed first", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const maxBytes = 1024 * 1024
      const tier = yield* scopedTier(directory, { maxBytes })
      const start = yield* Clock.currentTimeMillis
      const value = "x".repeat(400)
      let largest = 0
      for (let i = 0; i < 10_000; i++) {
        // createdAt is the write order, so "oldest first" is checkable
        yield* tier.set(`key:${i}`, entry(start + i, value, 3_600_000))
        if (i % 250 === 249) largest = Math.max(largest, directoryBytes(directory))
      }
      const entryBytes = fs.statSync(fileOf(directory, "key:9999")).size
      const after = directoryBytes(directory)
      const files = fs.readdirSync(directory).length
      console.log(
        `10k sequential writes of ${entryBytes}-byte files, maxBytes ${maxBytes}: largest seen ${largest}, ` +
          `after ${after} bytes in ${files} files`
      )
      assert.isAtMost(largest, maxBytes)
      assert.isAtMost(after, maxBytes)
      assert.isUndefined(yield* tier.get("key:0", Schema.String), "the oldest entry is gone")
      assert.strictEqual(((yield* tier.get("key:9999", Schema.String)) as CacheTier.Entry<string>).value, value)
      // the low-water mark: a prune leaves at most 90 %, and entries were not all thrown away
      assert.isAtLeast(files, Math.floor((0.9 * maxBytes) / entryBytes) - Math.ceil(maxBytes / 10 / entryBytes))
    }), { timeout: 120_000 })

  it.scopedLive(
    "the disk bound holds under 10k concurrent writes (16 at a time), within 16 entries' slack",
    () =>
      Effect.gen(function*() {
        const directory = tempDir()
        const maxBytes = 1024 * 1024
        const tier = yield* scopedTier(directory, { maxBytes })
        const start = yield* Clock.currentTimeMillis
        const value = "x".repeat(400)
        let largest = 0
        for (let batch = 0; batch < 100; batch++) {
          yield* Effect.forEach(
            Array.from({ length: 100 }, (_, j) => batch * 100 + j),
            (i) => tier.set(`key:${i}`, entry(start + i, value, 3_600_000)),
            { concurrency: 16, discard: true }
          )
          largest = Math.max(largest, directoryBytes(directory))
        }
        const entryBytes = fs.statSync(fileOf(directory, "key:9999")).size
        console.log(
          `10k writes 16 at a time, maxBytes ${maxBytes}: largest seen ${largest}, after ${directoryBytes(directory)}`
        )
        assert.isAtMost(largest, maxBytes + 16 * entryBytes)
      }),
    { timeout: 60_000 }
  )

  it.scoped("the first sweep counts the files already there and prunes them to the bound", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const value = "x".repeat(1000)
      const writer = yield* tierIn(directory, { maxBytes: Infinity })
      yield* writer.setMany(Array.from({ length: 200 }, (_, i) => [`key:${i}`, entry(i, value, 3_600_000)] as const))
      const before = directoryBytes(directory)
      yield* scopedTier(directory, { maxBytes: before / 4 })
      yield* eventually("the directory is pruned", () => directoryBytes(directory) <= before / 4)
      assert.isAtMost(directoryBytes(directory), 0.9 * before / 4)
    }))

  it.scoped("over the bound, unreadable files under a tier name go first, then the oldest entries", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const junk = path.join(directory, "cd".repeat(32))
      fs.writeFileSync(junk, "{\"v\":1,\"key\":\"torn".padEnd(1500, "x"))
      fs.writeFileSync(path.join(directory, "README"), "x".repeat(5000))
      const tier = yield* scopedTier(directory, { maxBytes: 4000 })
      const value = "y".repeat(550)
      for (let i = 0; i < 5; i++) yield* tier.set(`key:${i}`, entry(i, value, 3_600_000))
      yield* TestClock.adjust("1 minute")
      yield* eventually("the unreadable file is removed", () => !fs.existsSync(junk))
      const read = yield* tier.getMany(["key:0", "key:1", "key:2", "key:3", "key:4"], Schema.String)
      assert.isTrue(read.every((result) => result !== undefined), "every entry stays: the junk made the room")
      assert.isTrue(fs.existsSync(path.join(directory, "README")), "a foreign name is neither counted nor removed")
      for (let i = 5; i < 8; i++) yield* tier.set(`key:${i}`, entry(i, value, 3_600_000))
      const after = yield* tier.getMany(["key:0", "key:7"], Schema.String)
      assert.isUndefined(after[0], "the oldest entry made room next")
      assert.isDefined(after[1])
      assert.isAtMost(directoryBytes(directory) - 5000, 4000)
    }))

  it.effect("invalid options are a defect naming the option", () =>
    Effect.gen(function*() {
      for (
        const [options, option] of [
          [{ directory: "" }, "directory"],
          [{ directory: tempDir(), maxBytes: 0 }, "maxBytes"],
          [{ directory: tempDir(), pruneInterval: "soon" }, "pruneInterval"],
          [{ directory: tempDir(), kind: "remote" }, "kind"]
        ] as const
      ) {
        const exit = yield* Effect.exit(tierIn(options.directory, options as unknown as TierOptions))
        assert.isTrue(Exit.isFailure(exit))
        const defect = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
        assert.instanceOf(defect, Validate.InvalidOptionError)
        assert.strictEqual((defect as Validate.InvalidOptionError).option, option)
      }
    }))
})
