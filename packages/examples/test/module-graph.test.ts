/**
 * The module graph as users load it: every module of every package can be the
 * first one a fresh process imports (no value-import cycle that breaks by load
 * order), and no internal module is importable through a package's exports.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import { readdirSync } from "node:fs"
import { dirname, join, relative } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..")
const packages = ["core", "memory", "redis"] as const

const modulesOf = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? modulesOf(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : []
  )

/** Runs `code` as an ES module in a fresh Node process that loads TypeScript through tsx. */
const runFresh = (code: string, cwd: string) =>
  new Promise<{ readonly ok: boolean; readonly output: string }>((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "--conditions=@layercake/source", "--input-type=module", "-e", code],
      { cwd, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ ok: error === null, output: `${stdout}${stderr}` })
    )
  })

/** `items` through `f`, at most `limit` at a time. */
const pooled = async <A, B>(items: ReadonlyArray<A>, limit: number, f: (a: A) => Promise<B>) => {
  const results: Array<B> = []
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await f(items[index])
    }
  }
  await Promise.all(Array.from({ length: limit }, worker))
  return results
}

describe("module graph", () => {
  it("every module of every package loads first in a fresh process", { timeout: 180_000 }, async () => {
    // the conformance suite registers vitest tests when loaded: it runs inside vitest (Conformance.test.ts files)
    const files = packages.flatMap((name) => modulesOf(join(root, "packages", name, "src")))
      .filter((file) => !file.endsWith(join("testing", "conformance.ts")))
    assert.isAbove(files.length, 30)
    const results = await pooled(
      files,
      3,
      (file) => runFresh(`await import(${JSON.stringify(pathToFileURL(file).href)})`, root)
    )
    const broken = files.flatMap((file, i) => results[i].ok ? [] : [`${relative(root, file)}: ${results[i].output}`])
    assert.deepStrictEqual(broken, [])
  })

  it("the exports maps refuse internal modules and offer the public entry points", { timeout: 60_000 }, async () => {
    const cwd = join(root, "packages", "examples")
    const code = `
      const tryImport = async (specifier) => {
        try { await import(specifier); return "ok" } catch (error) { return error.code ?? error.message }
      }
      const results = {}
      for (const specifier of [
        "@layercake/core", "@layercake/core/testing", "@layercake/memory", "@layercake/redis",
        "@layercake/core/internal/cache", "@layercake/core/internal/cache.js", "@layercake/core/Cache",
        "@layercake/memory/internal/store", "@layercake/redis/internal/tier", "@layercake/redis/RedisTier"
      ]) results[specifier] = await tryImport(specifier)
      console.log(JSON.stringify(results))`
    const { ok, output } = await runFresh(code, cwd)
    assert.isTrue(ok, output)
    const results = JSON.parse(output.trim().split("\n").pop()!)
    for (const open of ["@layercake/core", "@layercake/core/testing", "@layercake/memory", "@layercake/redis"]) {
      assert.strictEqual(results[open], "ok", open)
    }
    for (const [specifier, result] of Object.entries(results)) {
      if (specifier.includes("internal") || specifier.endsWith("/Cache") || specifier.endsWith("/RedisTier")) {
        assert.strictEqual(result, "ERR_PACKAGE_PATH_NOT_EXPORTED", specifier)
      }
    }
  })
})
