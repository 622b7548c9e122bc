/**
 * The L1 hit of two builds of layercake side by side, in one run and
 * interleaved: the accessor inside one program, and one
 * `ManagedRuntime.runPromise` per call, with a ~1 KB nested value and its
 * Schema. Each build runs on its own copy of effect.
 *
 * Run (the "before" build is a worktree of another commit, built with `pnpm build`):
 *   git worktree add /tmp/before <commit> && (cd /tmp/before && pnpm install && pnpm build)
 *   pnpm build && BEFORE_ROOT=/tmp/before pnpm --filter @layercake/bench exec tsx src/l1-before-after.ts
 */
import { asyncCase, measure, timeTable } from "./harness.js"

import { createRequire } from "node:module"
import { pathToFileURL } from "node:url"

const load = async (root: string) => {
  const core = await import(`${root}/packages/core/dist/index.js`)
  const memory = await import(`${root}/packages/memory/dist/index.js`)
  const require = createRequire(`${root}/packages/core/package.json`)
  const effect = await import(pathToFileURL(require.resolve("effect")).href)
  return {
    core,
    memory,
    Effect: effect.Effect,
    Layer: effect.Layer,
    Schema: effect.Schema,
    ManagedRuntime: effect.ManagedRuntime
  }
}

const profile = (S: any) =>
  S.Struct({
    id: S.Number,
    name: S.String,
    email: S.String,
    createdAt: S.String,
    address: S.Struct({ street: S.String, city: S.String, zip: S.String, country: S.String }),
    roles: S.Array(S.String),
    settings: S.Struct({ theme: S.String, locale: S.String, notifications: S.Boolean, pageSize: S.Number }),
    history: S.Array(S.Struct({ at: S.String, action: S.String, count: S.Number }))
  })

const value = {
  id: 1,
  name: "Ada Lovelace",
  email: "ada@example.com",
  createdAt: "2020-01-01T00:00:00.000Z",
  address: { street: "12 Analytical Engine Road", city: "London", zip: "N1 9GU", country: "United Kingdom" },
  roles: ["admin", "editor", "viewer", "billing"],
  settings: { theme: "dark", locale: "en-GB", notifications: true, pageSize: 50 },
  history: Array.from(
    { length: 8 },
    (_, i) => ({ at: `2024-0${(i % 9) + 1}-01T00:00:00.000Z`, action: `login-${i}`, count: i * 7 })
  )
}

const casesFor = async (label: string, root: string) => {
  const { core, memory, Effect, Layer, Schema, ManagedRuntime } = await load(root)
  const User = profile(Schema)
  const CacheLive = core.Cache.layer({ namespace: "bench" }).pipe(Layer.provide(memory.MemoryTier.layer()))
  const runtime = ManagedRuntime.make(CacheLive)
  const compute = Effect.succeed(value)
  await runtime.runPromise(core.Cache.getOrCompute("user:1", User, compute))
  const hit = core.Cache.getOrCompute("user:1", User, compute)
  return [
    {
      name: `${label}: Cache.getOrCompute accessor in one program [gen]`,
      opsPerIteration: 1,
      run: async (n: number) => {
        const program = Effect.gen(function*() {
          for (let i = 0; i < n; i++) yield* hit
        })
        const start = process.hrtime.bigint()
        await runtime.runPromise(program)
        return Number(process.hrtime.bigint() - start)
      }
    },
    asyncCase(`${label}: one runtime.runPromise per call`, () => runtime.runPromise(hit)),
    asyncCase(`${label}: runtime.runPromise(Effect.succeed) floor`, () => runtime.runPromise(Effect.succeed(value)))
  ]
}

const main = async () => {
  const beforeRoot = process.env.BEFORE_ROOT
  if (beforeRoot === undefined) throw new Error("set BEFORE_ROOT to the root of the other build")
  const before = await casesFor("before", beforeRoot)
  const after = await casesFor("after", new URL("../../..", import.meta.url).pathname.replace(/\/$/, ""))
  const results = await measure("L1 hit", [...before, ...after], { samples: 15, targetMs: 80 })
  console.log(timeTable(results, ["before: Cache.getOrCompute accessor in one program [gen]"]))
}
main().then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
