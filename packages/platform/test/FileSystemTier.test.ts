import { assert, describe, it } from "@effect/vitest"
import { CacheTier } from "@layercake/core"
import * as Conformance from "@layercake/core/testing/conformance"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as FileSystemTier from "../src/FileSystemTier.js"

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "layercake-fs-"))

Conformance.run("FileSystemTier", () => FileSystemTier.layer({ directory: tempDir() }), { kind: "local" })

const entry = (now: number): CacheTier.Entry<string> => ({
  value: "v",
  schema: Schema.String,
  createdAt: now,
  freshUntil: now + 1000,
  staleUntil: now + 2000,
  tags: [],
  negative: false
})
const tierIn = (directory: string) => Effect.provide(CacheTier.CacheTier, FileSystemTier.layer({ directory }))

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
      const file = path.join(directory, createHash("sha256").update("~entry:k").digest("hex"))
      const text = fs.readFileSync(file, "utf8")
      fs.writeFileSync(file, text.slice(0, text.length / 2))
      assert.instanceOf(yield* tier.get("k", Schema.String), CacheTier.DecodeFailure)
    }))
})
